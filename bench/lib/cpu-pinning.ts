/**
 * Keeps the process under test apart from the load generator: the measured
 * processes get the last CPU to themselves, everything else (the generator,
 * the upstream, jitgate's server node, the bench itself) shares the others.
 * On a two-core machine, free-floating processes take turns on both cores,
 * and the tail of whichever one is measured then carries the generator's and
 * the upstream's time slices. Pinning is what one does with separate load
 * machines, on one machine. Linux `taskset` (util-linux); every thread of a
 * process (`-a`) is pinned, and threads made later inherit it.
 */
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Pinned processes; `release` gives them every CPU back. */
export interface Pinning {
  /** For the report: which CPU the measured processes had, which the rest. */
  describe: string;
  release(): Promise<void>;
}

/** What pinning could not be done, and why: the loads then run unpinned. */
export interface NoPinning {
  why: string;
}

const list = (cpus: number[]) => (cpus.length === 1 ? String(cpus[0]) : `${cpus[0]}-${cpus[cpus.length - 1]}`);

async function pin(pid: number, cpus: string): Promise<void> {
  await run('taskset', ['-a', '-p', '-c', cpus, String(pid)]);
}

/** Pins `measured` to the last CPU and `others` to the rest; refuses (without pinning anything) on one CPU or without taskset. */
export async function pinApart(measured: readonly number[], others: readonly number[]): Promise<Pinning | NoPinning> {
  const n = availableParallelism();
  if (n < 2) return { why: `one CPU: nothing to keep apart` };
  const all = Array.from({ length: n }, (_, i) => i);
  const mine = list([n - 1]);
  const rest = list(all.slice(0, -1));
  const everything = list(all);
  const done: number[] = [];
  const release = async () => {
    for (const pid of done) await pin(pid, everything).catch(() => {});
  };
  try {
    for (const pid of measured) {
      await pin(pid, mine);
      done.push(pid);
    }
    for (const pid of others) {
      await pin(pid, rest);
      done.push(pid);
    }
  } catch (err) {
    await release();
    return { why: `taskset failed (${(err as Error).message.split('\n')[0]})` };
  }
  return {
    describe: `the measured proxy pinned to CPU ${mine}; the load generator, upstream, jitgate server node and bench process to CPU ${rest}`,
    release,
  };
}

export const pinned = (p: Pinning | NoPinning): p is Pinning => 'release' in p;
