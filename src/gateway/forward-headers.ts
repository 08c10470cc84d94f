/**
 * The headers of a forwarded request and of the answer passed back (pure).
 * Upstream: the caller's credentials and hop-by-hop headers go, what the
 * caller claims about forwarding (X-Forwarded-*, Forwarded, X-Request-Id)
 * is replaced by what the gateway saw, and the resource's injected
 * credentials are set. Downstream: hop-by-hop headers go.
 */

/** RFC 9110 §7.6.1 connection-specific headers, plus the non-standard ones proxies also drop. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

/** Never forwarded upstream, whatever the request. */
const DROP_UPSTREAM: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  'host',
  'authorization',
  // undici refuses it; the gateway has already answered 100-continue itself.
  'expect',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-real-ip',
  'x-request-id',
]);

export interface ForwardFacts {
  /** The caller's address as the gateway's socket saw it. */
  clientAddress: string;
  proto: 'http' | 'https';
  /** The Host the caller sent (already checked to be a host name). */
  host: string;
  requestId: string;
  /** Lower-case name → value; replaces anything of the same name. */
  injected: Readonly<Record<string, string>>;
}

/** Tokens of the Connection header(s): more headers this hop alone was meant to see. */
const NONE: ReadonlySet<string> = new Set();

function connectionListed(values: readonly string[]): ReadonlySet<string> {
  // Most requests carry no Connection header, and most answers only `keep-alive`, already hop-by-hop: no set to build for them.
  if (values.length === 0) return NONE;
  if (values.length === 1 && HOP_BY_HOP.has(values[0]!.toLowerCase())) return NONE;
  const out = new Set<string>();
  for (const v of values) for (const t of v.split(',')) if (t.trim()) out.add(t.trim().toLowerCase());
  return out;
}

/**
 * Upstream request headers as undici's flat `[name, value, …]` list, from
 * Node's `rawHeaders` (so repeated headers stay as they were sent).
 */
export function upstreamRequestHeaders(rawHeaders: readonly string[], facts: ForwardFacts): string[] {
  const out: string[] = [];
  // One pass keeps what survives the fixed rules; a Connection header (rare) may name more to drop, filtered after.
  let connection: string[] | null = null;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (lower === 'connection') (connection ??= []).push(rawHeaders[i + 1] ?? '');
    if (DROP_UPSTREAM.has(lower) || lower in facts.injected) continue;
    out.push(name, rawHeaders[i + 1] ?? '');
  }
  const listed = connection === null ? NONE : connectionListed(connection);
  const kept = listed.size === 0 ? out : withoutListed(out, listed);
  kept.push('x-forwarded-for', facts.clientAddress, 'x-forwarded-proto', facts.proto, 'x-forwarded-host', facts.host, 'x-request-id', facts.requestId);
  for (const name in facts.injected) kept.push(name, facts.injected[name]!);
  return kept;
}

function withoutListed(flat: readonly string[], listed: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) if (!listed.has(flat[i]!.toLowerCase())) out.push(flat[i]!, flat[i + 1]!);
  return out;
}

/**
 * The upstream's answer headers minus hop-by-hop ones, for `res.writeHead`,
 * with the gateway's `x-request-id` when given (it replaces the upstream's).
 */
export function downstreamResponseHeaders(headers: Readonly<Record<string, string | string[] | undefined>>, requestId?: string): Record<string, string | string[]> {
  const connection = headers.connection;
  const listed = connectionListed(connection === undefined ? [] : Array.isArray(connection) ? connection : [connection]);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed.has(lower)) continue;
    out[lower] = value;
  }
  if (requestId !== undefined) out['x-request-id'] = requestId;
  return out;
}
