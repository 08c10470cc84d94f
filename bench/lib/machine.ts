/** Facts about the machine and the tree a run was taken on, for the report header. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, release, totalmem, type } from 'node:os';
import { createRequire } from 'node:module';
import type { MachineFacts } from './types.js';

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The first `model name` of /proc/cpuinfo. */
export function cpuModelOf(cpuinfo: string): string {
  return /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
}

/** PRETTY_NAME of /etc/os-release. */
export function osNameOf(osRelease: string): string | null {
  return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? null;
}

function git(rootDir: string, args: string[]): string | null {
  try {
    // --no-optional-locks: reading the status must not refresh (write) the index.
    return execFileSync('git', ['--no-optional-locks', ...args], { cwd: rootDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function machineFacts(rootDir: string, now: Date): MachineFacts {
  const require = createRequire(import.meta.url);
  const autocannonVersion = (require('autocannon/package.json') as { version: string }).version;
  const distro = osNameOf(read('/etc/os-release'));
  const status = git(rootDir, ['status', '--porcelain', '--untracked-files=no']);
  return {
    cpuModel: cpuModelOf(read('/proc/cpuinfo')),
    cores: availableParallelism(),
    memoryGiB: totalmem() / 1024 ** 3,
    node: process.version,
    os: `${distro ? `${distro}, ` : ''}${type()} ${release()}`,
    date: now.toISOString(),
    gitCommit: git(rootDir, ['rev-parse', 'HEAD']) ?? 'unknown',
    gitDirty: status === null ? null : status.length > 0,
    loadGenerator: `autocannon ${autocannonVersion}, in the runner process`,
  };
}
