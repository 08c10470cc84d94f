import { Problem, notFound } from '../problem.js';
import { PRINCIPAL } from '../../policy/names.js';

/** The shape of every id jitgate hands out (`req_…`, `gr_…`: base64url), with room to spare. */
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The `:id` of a request or grant. Text not shaped like an id names nothing,
 * so it is 404 without asking the store (PostgreSQL would refuse a NUL in it
 * with an error rather than an empty answer).
 */
export function idParam(params: unknown, what: 'request' | 'grant'): string {
  const id = (params as { id?: unknown }).id;
  if (typeof id !== 'string' || !ID.test(id)) throw notFound(`the ${what}`);
  return id;
}

/** An optional `principal` query parameter: `user:<id>` or `client:<id>`, else 400. */
export function principalParam(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!PRINCIPAL.test(raw)) throw new Problem(400, 'query_invalid', 'principal must be user:<id> or client:<id>');
  return raw;
}
