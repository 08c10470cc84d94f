/**
 * A gateway's usage report (`POST /api/v1/usage`): how often each principal
 * used each scope at each resource since its last report, and which tokens it
 * refused because they were revoked. Shared by the gateway, which builds it,
 * and the server, which checks it. Instants are epoch seconds.
 */
import { PRINCIPAL, SCOPE_NAME } from '../policy/names.js';

/** Entries of either kind in one report; a gateway with more sends several. */
export const MAX_REPORT_ENTRIES = 500;
/** Longest principal, scope, resource and jti accepted (the policy's own names are far shorter). */
export const MAX_NAME = 256;
export const MAX_RESOURCE = 1024;
/** A report's instants may run this far ahead of the server's clock (gateway clock skew), seconds. */
export const MAX_SKEW_S = 300;

/** Uses of one scope by one principal at one resource. */
export interface UsageEntry {
  principal: string;
  scope: string;
  resource: string;
  /** Requests forwarded that needed the scope, at least 1. */
  count: number;
  first_used: number;
  last_used: number;
}

/** Why a gateway refused a token the feed had told it about. Withdrawn scopes are policy changes, not revocations, and are not reported. */
export type RevokedCause = 'token_revoked' | 'grant_revoked';

/** A token refused at the gateway because it or its grant was revoked (or released): its id, never the token. */
export interface RevokedUse {
  jti: string;
  principal: string;
  resource: string;
  cause: RevokedCause;
  /** The last refusal's instant. */
  at: number;
}

export interface UsageReport {
  usage: UsageEntry[];
  revoked: RevokedUse[];
  /** Distinct keys the gateway could not keep since its last successful report (its memory bound). */
  dropped: number;
}

/** What is wrong with a report: `body_invalid` (400) for its shape, `usage_invalid` (422) for values that cannot be true. */
export class ReportError extends Error {
  readonly code: 'body_invalid' | 'usage_invalid';
  constructor(
    readonly status: 400 | 422,
    message: string,
  ) {
    super(message);
    this.name = 'ReportError';
    this.code = status === 400 ? 'body_invalid' : 'usage_invalid';
  }
}

const ID = /^[A-Za-z0-9_-]{1,128}$/;
const CAUSES: readonly RevokedCause[] = ['token_revoked', 'grant_revoked'];

/**
 * The report in `body`, checked member by member: unknown members, wrong
 * types, names that could not come from a policy, counts that are not
 * positive whole numbers, `first_used` after `last_used`, instants in the
 * future (beyond {@link MAX_SKEW_S}) and more than {@link MAX_REPORT_ENTRIES}
 * entries are refused with a {@link ReportError}. Pure.
 */
export function parseUsageReport(body: unknown, nowS: number): UsageReport {
  const root = object(body, 'the body');
  onlyKeys(root, ['usage', 'revoked', 'dropped'], 'the body');
  const usage = list(root.usage, 'usage').map((e, i) => usageEntry(e, `usage[${i}]`, nowS));
  const revoked = list(root.revoked, 'revoked').map((e, i) => revokedUse(e, `revoked[${i}]`, nowS));
  const dropped = root.dropped === undefined ? 0 : count(root.dropped, 'dropped', 0);
  return { usage, revoked, dropped };
}

function usageEntry(raw: unknown, at: string, nowS: number): UsageEntry {
  const e = object(raw, at);
  onlyKeys(e, ['principal', 'scope', 'resource', 'count', 'first_used', 'last_used'], at);
  const first = instant(e.first_used, `${at}.first_used`, nowS);
  const last = instant(e.last_used, `${at}.last_used`, nowS);
  if (first > last) throw new ReportError(422, `${at}.first_used is after its last_used`);
  return {
    principal: principal(e.principal, `${at}.principal`),
    scope: text(e.scope, `${at}.scope`, MAX_NAME, SCOPE_NAME, 'a scope name'),
    resource: text(e.resource, `${at}.resource`, MAX_RESOURCE, /^[a-z][a-z0-9+.-]*:[^\s\p{Cc}]+$/iu, 'an absolute URI'),
    count: count(e.count, `${at}.count`, 1),
    first_used: first,
    last_used: last,
  };
}

function revokedUse(raw: unknown, at: string, nowS: number): RevokedUse {
  const e = object(raw, at);
  onlyKeys(e, ['jti', 'principal', 'resource', 'cause', 'at'], at);
  const cause = e.cause;
  if (typeof cause !== 'string' || !CAUSES.includes(cause as RevokedCause)) {
    throw new ReportError(400, `${at}.cause must be one of ${CAUSES.join(', ')}`);
  }
  return {
    jti: text(e.jti, `${at}.jti`, 128, ID, 'a token id'),
    principal: principal(e.principal, `${at}.principal`),
    resource: text(e.resource, `${at}.resource`, MAX_RESOURCE, /^[a-z][a-z0-9+.-]*:[^\s\p{Cc}]+$/iu, 'an absolute URI'),
    cause: cause as RevokedCause,
    at: instant(e.at, `${at}.at`, nowS),
  };
}

function object(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ReportError(400, `${at} must be a JSON object`);
  return v as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, keys: readonly string[], at: string): void {
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  if (extra.length > 0) throw new ReportError(400, `${at} has unknown member${extra.length > 1 ? 's' : ''} ${extra.join(', ')}; it takes ${keys.join(', ')}`);
}

function list(v: unknown, at: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ReportError(400, `${at} must be an array`);
  if (v.length > MAX_REPORT_ENTRIES) throw new ReportError(400, `${at} has ${v.length} entries; send at most ${MAX_REPORT_ENTRIES} per report`);
  return v;
}

function text(v: unknown, at: string, max: number, shape: RegExp, what: string): string {
  if (typeof v !== 'string') throw new ReportError(400, `${at} must be a string`);
  if (v.length === 0 || v.length > max) throw new ReportError(400, `${at} must be 1 to ${max} characters`);
  if (!shape.test(v)) throw new ReportError(400, `${at} is not ${what}`);
  return v;
}

function principal(v: unknown, at: string): string {
  return text(v, at, MAX_NAME, PRINCIPAL, 'a principal (user:<id> or client:<id>)');
}

function count(v: unknown, at: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new ReportError(400, `${at} must be a whole number of at least ${min}`);
  return v;
}

function instant(v: unknown, at: string, nowS: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ReportError(400, `${at} must be epoch seconds`);
  if (v > nowS + MAX_SKEW_S) throw new ReportError(422, `${at} lies in the future`);
  return v;
}
