import { CliFailure, EXIT, renderFailure } from './failure.js';

/**
 * Everything a requester/approver verb touches outside itself. The process's
 * own unless a caller (a test) passes another, so verbs can run in-process
 * without writing to the real terminal or exiting the test runner.
 */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Milliseconds since the epoch. */
  nowMs: () => number;
  /** Whether stderr is a terminal (live status lines) and how wide it is. */
  stderrTty: boolean;
  columns: number | undefined;
  setExitCode: (code: number) => void;
  /** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The HTTP client; the global fetch unless replaced. */
  fetch: typeof fetch;
  /** Runs `handler` when the process gets `signal`, instead of the default action, until the returned function is called. */
  onSignal: (signal: NodeJS.Signals, handler: () => void) => () => void;
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    nowMs: () => Date.now(),
    stderrTty: process.stderr.isTTY === true,
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
    setExitCode: (code) => {
      process.exitCode = code;
    },
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    fetch: (input, init) => fetch(input, init),
    onSignal: (signal, handler) => {
      process.on(signal, handler);
      return () => process.off(signal, handler);
    },
  };
}

/**
 * Wraps a verb's body: its return value is the exit status, and a failure is
 * printed (`jitgate: …` plus hints) and turned into a non-zero status instead
 * of a stack trace.
 */
export function action<A extends unknown[]>(io: CliIo, body: (...args: A) => Promise<number | void>) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await body(...args);
      if (code) io.setExitCode(code);
    } catch (err) {
      io.err(renderFailure(err));
      io.setExitCode(err instanceof CliFailure ? err.exitCode : EXIT.failed);
    }
  };
}
