/**
 * CPU time and memory of a server process, read from /proc (Linux). The
 * parsers are pure; the readers do the file I/O.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** utime + stime of `/proc/PID/stat`, in clock ticks. */
export function parseStatCpuTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces, so fields count from the last ')'.
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error('unexpected /proc/PID/stat format');
  const fields = stat.slice(close + 2).trim().split(/\s+/);
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('unexpected /proc/PID/stat format');
  return utime + stime;
}

/** VmHWM and VmRSS of `/proc/PID/status`, in KiB. */
export function parseStatusMemory(status: string): { hwmKiB: number; rssKiB: number } {
  const pick = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    if (!m) throw new Error(`${key} missing from /proc/PID/status`);
    return Number(m[1]);
  };
  return { hwmKiB: pick('VmHWM'), rssKiB: pick('VmRSS') };
}

let clockTicks: number | undefined;
/** Clock ticks per second (`getconf CLK_TCK`); 100 on practically every Linux. */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export async function readCpuSeconds(pid: number): Promise<number> {
  return parseStatCpuTicks(await readFile(`/proc/${pid}/stat`, 'utf8')) / clockTicksPerSecond();
}

/** CPU seconds of one thread of `pid` (`/proc/PID/task/TID/stat`, the same format); the main thread's id is the pid. */
export async function readThreadCpuSeconds(pid: number, tid: number): Promise<number> {
  return parseStatCpuTicks(await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8')) / clockTicksPerSecond();
}

export async function readMemory(pid: number): Promise<{ hwmKiB: number; rssKiB: number }> {
  return parseStatusMemory(await readFile(`/proc/${pid}/status`, 'utf8'));
}

export async function readLoadAvg1(): Promise<number> {
  const text = await readFile('/proc/loadavg', 'utf8');
  return Number(text.split(' ')[0]);
}

/** The machine's CPU time so far, in clock ticks: all of it, and what the hypervisor stole (the `cpu` line of /proc/stat). */
export async function readMachineTicks(): Promise<{ total: number; steal: number }> {
  return parseMachineTicks(await readFile('/proc/stat', 'utf8'));
}

/** The `cpu` line of /proc/stat as total and stolen ticks. */
export function parseMachineTicks(text: string): { total: number; steal: number } {
  const fields = text.slice(0, text.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already inside user.
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total, steal: fields[7] ?? 0 };
}

/** Percent of the machine's CPU time stolen between two readings. */
export function stealPctBetween(a: { total: number; steal: number }, b: { total: number; steal: number }): number {
  const total = b.total - a.total;
  return total > 0 ? ((b.steal - a.steal) / total) * 100 : 0;
}

/**
 * Samples VmRSS of a process at an interval until stopped; the largest sample
 * catches peaks that VmHWM (lifetime high-water mark) would attribute to start-up.
 */
export function sampleRss(pid: number, intervalMs = 250): { stop(): Promise<number> } {
  let maxKiB = 0;
  let pending: Promise<void> = Promise.resolve();
  const tick = () => {
    pending = readMemory(pid)
      .then((m) => {
        maxKiB = Math.max(maxKiB, m.rssKiB);
      })
      .catch(() => {});
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      return maxKiB;
    },
  };
}
