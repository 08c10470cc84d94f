/**
 * Runs the real CLI (`node bin/jitgate.js …`) as a child process, the way a
 * person's shell would, each "person" with a config directory of their own
 * so their saved logins never mix.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/jitgate.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A CLI process still running; `done` settles when it exits. */
export interface RunningCli {
  child: ChildProcess;
  /** Everything written so far. */
  readonly stdout: string;
  readonly stderr: string;
  done: Promise<CliResult>;
  /** Resolves once `pattern` appears on stderr (or rejects when the process exits first). */
  waitForStderr(pattern: RegExp): Promise<void>;
}

export interface CliPerson {
  /** Their XDG_CONFIG_HOME. */
  configHome: string;
  start(args: string[], opts?: { env?: Record<string, string | undefined> }): RunningCli;
  run(args: string[], opts?: { env?: Record<string, string | undefined> }): Promise<CliResult>;
  cleanup(): void;
}

/** A person at a terminal: their own config directory; the outer environment's jitgate settings removed. */
export function cliPerson(name: string): CliPerson {
  const configHome = mkdtempSync(join(tmpdir(), `jitgate-cli-${name}-`));
  const start = (args: string[], opts: { env?: Record<string, string | undefined> } = {}): RunningCli => {
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: configHome, HOME: configHome };
    delete env.JITGATE_SERVER;
    delete env.JITGATE_ID_TOKEN;
    delete env.NODE_OPTIONS; // the test runner's loader flags are not the user's
    delete env.NODE_TEST_CONTEXT; // a child that inherits it reports to the parent's test runner
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let closed = false;
    const waiters: { pattern: RegExp; resolve: () => void; reject: (e: Error) => void }[] = [];
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      for (const w of [...waiters]) {
        if (w.pattern.test(stderr)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
    const done = new Promise<CliResult>((resolve) => {
      child.on('close', (code, signal) => {
        closed = true;
        for (const w of waiters.splice(0)) w.reject(new Error(`jitgate ${args.join(' ')} exited before ${w.pattern}: ${stderr}`));
        resolve({ code, signal, stdout, stderr });
      });
    });
    return {
      child,
      get stdout() {
        return stdout;
      },
      get stderr() {
        return stderr;
      },
      done,
      waitForStderr(pattern) {
        if (pattern.test(stderr)) return Promise.resolve();
        if (closed) return Promise.reject(new Error(`jitgate ${args.join(' ')} exited before ${pattern}: ${stderr}`));
        return new Promise((resolve, reject) => waiters.push({ pattern, resolve, reject }));
      },
    };
  };
  return {
    configHome,
    start,
    run: (args, opts) => start(args, opts).done,
    cleanup: () => rmSync(configHome, { recursive: true, force: true }),
  };
}
