/**
 * Request ids: the caller's `X-Request-Id` when it is a plain token (so a
 * trace can cross a proxy or the gateway), otherwise a new UUID. A value
 * with spaces, quotes or control characters is never taken: it would end up
 * in logs and in headers sent upstream.
 */
import { randomUUID } from 'node:crypto';

const SANE = /^[A-Za-z0-9][A-Za-z0-9._:@\/+=-]{0,127}$/;

/** The request id to use for a request whose `X-Request-Id` header is `header`. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE.test(header) ? header : randomUUID();
}
