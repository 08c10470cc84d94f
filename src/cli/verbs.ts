import type { Command } from 'commander';

/** Every verb lives in its own file and registers itself here, in help order. */
export function registerVerbs(program: Command): void {
  void program;
}
