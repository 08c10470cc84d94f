/**
 * Starts a server under test as its own Node process, waits until it answers,
 * and stops it. Output goes to a file rather than a pipe so the load generator
 * never spends CPU reading a chatty server's logs.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { RunningServer } from './types.js';

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface ChildServerOptions {
  id: string;
  /** Arguments to `node` (the first is the script). */
  args: string[];
  cwd: string;
  /** Added to this process's environment; `undefined` removes a variable. */
  env: Record<string, string | undefined>;
  port: number;
  /** Path polled with GET until it answers 200; its JSON body becomes `metadata`. */
  readyPath: string;
  /** The status `readyPath` answers once ready. Default 200. */
  readyStatus?: number;
  logDir: string;
  readyTimeoutMs?: number;
}

const TAIL_BYTES = 4000;

/** Spawns `node ARGS`, polls `readyPath` until 200, and returns a handle that can stop it. */
export async function startChildServer(opts: ChildServerOptions): Promise<RunningServer> {
  const logPath = join(opts.logDir, `${opts.id}-${opts.port}.log`);
  const logFd = openSync(logPath, 'a');
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const child = spawn(process.execPath, opts.args, {
    cwd: opts.cwd,
    env,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);

  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));

  const outputTail = async (): Promise<string> => {
    try {
      const text = await readFile(logPath, 'utf8');
      return text.slice(-TAIL_BYTES).trim();
    } catch {
      return '';
    }
  };

  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
    if ((await Promise.race([exitPromise, timeout])) === 'timeout') {
      child.kill('SIGKILL');
      await exitPromise;
    }
  };

  const baseUrl = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  let lastError = '';
  for (;;) {
    if (exited) {
      const { code, signal } = exited as { code: number | null; signal: NodeJS.Signals | null };
      throw new Error(`${opts.id} exited before it was ready (code ${code}, signal ${signal}):\n${await outputTail()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${opts.id} not ready within the timeout (${lastError}):\n${await outputTail()}`);
    }
    try {
      const res = await Promise.race([fetch(baseUrl + opts.readyPath, { signal: AbortSignal.timeout(2000) }), spawnError]);
      const text = await res.text();
      if (res.status === (opts.readyStatus ?? 200)) {
        let metadata: Record<string, unknown> = {};
        try {
          const parsed: unknown = JSON.parse(text);
          if (parsed && typeof parsed === 'object') metadata = parsed as Record<string, unknown>;
        } catch {
          // A readiness path that is not JSON leaves the metadata empty.
        }
        if (child.pid === undefined) throw new Error(`${opts.id} has no pid`);
        return { id: opts.id, baseUrl, pid: child.pid, metadata, outputTail, stop };
      }
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
