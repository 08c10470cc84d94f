import { Problem } from '../problem.js';

/** A JSON object body, or 400: the API never guesses at other shapes. */
export function objectBody(body: unknown, allowEmpty = true): Record<string, unknown> {
  if (body === undefined || body === null) {
    if (allowEmpty) return {};
    throw new Problem(400, 'body_invalid', 'send a JSON object');
  }
  if (body instanceof URLSearchParams) throw new Problem(415, 'unsupported_media_type', 'send JSON with Content-Type: application/json');
  if (typeof body !== 'object' || Array.isArray(body)) throw new Problem(400, 'body_invalid', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

/** An optional string member; 400 when present with another type, too long, or holding NUL. */
export function optionalText(body: Record<string, unknown>, key: string, max = 1000): string | null {
  const v = body[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new Problem(400, 'body_invalid', `${key} must be a string`);
  if (v.length > max) throw new Problem(400, 'body_invalid', `${key} is longer than ${max} characters`);
  // PostgreSQL text cannot hold NUL; refused here so both databases answer alike.
  if (v.includes('\u0000')) throw new Problem(400, 'body_invalid', `${key} must not contain NUL characters`);
  return v;
}

/** Refuses members the endpoint does not take, so a typo is not silently ignored. */
export function onlyKeys(body: Record<string, unknown>, keys: readonly string[]): void {
  const extra = Object.keys(body).filter((k) => !keys.includes(k));
  if (extra.length) {
    throw new Problem(400, 'body_invalid', `unknown member${extra.length > 1 ? 's' : ''} ${extra.join(', ')}; this endpoint takes ${keys.join(', ') || 'no body'}`);
  }
}

/** `limit` query parameter: 1..max, default `def`. */
export function limitParam(raw: unknown, def = 50, max = 200): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Problem(400, 'query_invalid', `limit must be a whole number from 1 to ${max}`);
  return n;
}

export function boolParam(raw: unknown, name: string): boolean {
  if (raw === undefined || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1' || raw === '') return true;
  throw new Problem(400, 'query_invalid', `${name} must be true or false`);
}
