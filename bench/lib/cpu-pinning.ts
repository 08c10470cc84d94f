/**
 * Keeps the process under test apart from the load generator: everything
 * else (the generator, the upstream, jitgate's server node, the bench
 * itself) is confined to all CPUs but the last, which is left to the
 * measured process alone. On a two-core machine, free-floating processes
 * take turns on both cores, and the tail of whichever one is measured then
 * carries the generator's and the upstream's time slices; this is what
 * separate load machines give, on one machine. The measured process itself
 * is not confined: pinned to one CPU, its own garbage collector's helper
 * threads took turns with its event loop there (measured: 5–10 ms delays of
 * the loop for hundreds of milliseconds during a major collection), a cost
 * it would not pay on any host with more than one core, and one that weighs
 * more on the process that collects more. Linux `taskset` (util-linux);
 * every thread of a process (`-a`) is confined, and threads made later
 * inherit it.
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

/**
 * Confines `others` to every CPU but the last, and lets `measured` run
 * anywhere (so the last CPU is theirs alone); refuses (without pinning
 * anything) on one CPU or without taskset.
 */
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
      await pin(pid, everything);
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
    describe: `the load generator, upstream, jitgate server node and bench process confined to CPU ${rest}, so that CPU ${mine} is the measured proxy's alone (which may use any)`,
    release,
  };
}

export const pinned = (p: Pinning | NoPinning): p is Pinning => 'release' in p;
