import type { Command } from 'commander';
import { register as serve } from './serve.js';
import { register as demo } from './demo.js';

/** Every verb lives in its own file and registers itself here, in help order. */
export function registerVerbs(program: Command): void {
  serve(program);
  demo(program);
}
