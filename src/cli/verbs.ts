import type { Command } from 'commander';
import { register as serve } from './serve.js';
import { register as demo } from './demo.js';
import { register as keys } from './keys.js';
import { register as policy } from './policy.js';
import { register as migrate } from './migrate.js';

/** Every verb lives in its own file and registers itself here, in help order. */
export function registerVerbs(program: Command): void {
  serve(program);
  demo(program);
  policy(program);
  migrate(program);
  keys(program);
}
