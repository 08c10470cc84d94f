import { CliFailure } from './failure.js';
import type { HttpAnswer } from './problem.js';

/** How long one call to the server may take before the CLI gives up on it. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * One HTTP exchange with the server, body read as text. Anything that keeps
 * the answer from arriving (refused connection, DNS, TLS, timeout) becomes a
 * failure that names the server that could not be reached.
 */
export async function exchange(
  fetchFn: typeof fetch,
  server: string,
  url: string,
  init: RequestInit & { signal?: AbortSignal | undefined },
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<HttpAnswer> {
  let res: Response;
  try {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    res = await fetchFn(url, { ...init, redirect: 'manual', signal });
    const text = await res.text();
    return { status: res.status, statusText: res.statusText, headers: res.headers, text };
  } catch (err) {
    throw unreachable(server, err, timeoutMs);
  }
}

function unreachable(server: string, err: unknown, timeoutMs: number): CliFailure {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  let why: string;
  if (e.name === 'TimeoutError') why = `no answer within ${timeoutMs / 1000}s`;
  else if (e.name === 'AbortError') why = 'the call was interrupted';
  else why = e.cause?.message ?? e.cause?.code ?? e.message ?? String(err);
  return new CliFailure('server_unreachable', [
    `could not reach the jitgate server at ${server}: ${why}`,
    '  check the URL (--server or JITGATE_SERVER) and that the server is running',
  ]);
}
