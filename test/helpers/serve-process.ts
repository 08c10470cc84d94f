/**
 * `node bin/jitgate.js serve …` as a child process: the server exactly as an
 * operator runs it, which a test can kill at any moment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/jitgate.js', import.meta.url));

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** What it wrote to stderr so far. */
  output(): string;
  /** Sends `signal` and waits for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export async function startServeProcess(opts: { policyPath: string; dbUrl: string; env: Record<string, string> }): Promise<ServeProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  delete env.JITGATE_DB;
  delete env.JITGATE_POLICY;
  const child = spawn(process.execPath, [BIN, 'serve', '--policy', opts.policyPath, '--db', opts.dbUrl, '--port', '0', '--log-level', 'warn'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`jitgate serve did not start within 60 s:\n${stderr}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /jitgate listening on (http:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`jitgate serve exited (${code ?? signal}) before listening:\n${stderr}`));
    });
  });
  return {
    url,
    child,
    output: () => stderr,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
