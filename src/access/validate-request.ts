/**
 * The body of `POST /api/v1/requests`, checked against the policy before any
 * rule decides on it. Pure: the policy, the body, the principal and the
 * current time in; a normalized request or the first reason to refuse out.
 * Checks run in this order so the answer names the most basic fault first:
 * malformed body (400), not eligible or not now (403), then what cannot be
 * granted as asked (422).
 */
import * as z from 'zod';
import { inWindow, wallClock } from '../policy/calendar.js';
import { DURATION_HINT, formatDuration, parseDuration } from '../policy/duration.js';
import { formatClock } from '../policy/hours.js';
import { ENTITY_NAME, SCOPE_NAME } from '../policy/names.js';
import type { HoursWindow, Policy, Risk } from '../policy/types.js';
import { RISK_ORDER } from '../policy/types.js';
import { eligibleScopes, expandRequest } from './eligibility.js';
import { requestError, type RequestError } from './request-error.js';
import { TIMESTAMP_HINT, formatTimestamp, parseTimestamp } from './timestamp.js';

/** Bound on a grant's length for scopes without `max_ttl`, unless the server sets another. */
export const DEFAULT_MAX_DURATION_S = 8 * 3600;
/** How far ahead `starts_at` may lie, unless the server sets another bound. */
export const DEFAULT_MAX_SCHEDULE_AHEAD_S = 7 * 86_400;
/** How far in the past `starts_at` may lie (clock skew between client and server); such a request starts at once. */
export const STARTS_AT_TOLERANCE_S = 60;
/** A reason is a sentence: at least this many words (whitespace-separated, each with a letter or digit)… */
export const REASON_MIN_WORDS = 3;
/** …and this many characters once trimmed. */
export const REASON_MIN_CHARS = 12;
export const REASON_MAX_CHARS = 1000;
export const TICKET_MAX_CHARS = 128;
/** Serialized size bound of `context`: it is stored with the request and read by conditions. */
export const CONTEXT_MAX_BYTES = 4096;
/** Nesting bound of `context`, checked before anything recursive walks it (a deep enough array would exhaust the stack). */
export const CONTEXT_MAX_DEPTH = 32;
const MAX_SCOPES = 64;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** An access request that passed every check, ready for the decision engine. */
export interface NormalizedRequest {
  principal: string;
  /** Requested scopes, bundles expanded, duplicates dropped, order kept. */
  scopes: string[];
  /** The bundle asked for by name, if any. */
  bundle: string | null;
  /** Audience URI of the resource the grant is for. */
  resource: string;
  durationS: number;
  /** Trimmed. */
  reason: string;
  /** Trimmed; null when none was given. */
  ticket: string | null;
  /** Epoch seconds when access was asked to begin later; null for "as soon as approved". */
  startsAt: number | null;
  context: Record<string, JsonValue>;
  /** The highest risk among the requested scopes. */
  maxRisk: Risk;
  /** Some requested scope needs MFA and the principal is a person (`user:`). */
  mfaRequired: boolean;
}

export interface ValidateOptions {
  /** The authenticated requester (the token's `sub`). */
  principal: string;
  /** Current time, epoch seconds. */
  nowS: number;
  /** Bound for scopes without `max_ttl`; DEFAULT_MAX_DURATION_S when left out. */
  maxDurationS?: number;
  /** Furthest `starts_at` ahead of now; DEFAULT_MAX_SCHEDULE_AHEAD_S when left out. */
  maxScheduleAheadS?: number;
}

export type ValidationResult = { ok: true; value: NormalizedRequest } | { ok: false; error: RequestError };

/** PostgreSQL text cannot hold NUL; refusing it here keeps both databases answering alike. */
const NUL_MESSAGE = 'must not contain NUL characters';
function noNul(text: string): boolean {
  return !text.includes('\u0000');
}

// `null` is accepted for every optional key and means "not given": JSON clients send both.
const body = z.strictObject({
  scopes: z
    .array(z.string().regex(SCOPE_NAME, { error: 'not a scope name' }))
    .max(MAX_SCOPES, { error: `at most ${MAX_SCOPES} scopes per request` })
    .nullish(),
  bundle: z.string().regex(ENTITY_NAME, { error: 'not a bundle name' }).nullish(),
  resource: z.string().min(1, { error: 'must not be empty' }).max(2048).nullish(),
  duration: z.union([z.number(), z.string().max(32)], { error: DURATION_HINT }).nullish(),
  reason: z
    .string({ error: 'reason is text' })
    .max(REASON_MAX_CHARS, { error: `at most ${REASON_MAX_CHARS} characters` })
    .refine(noNul, { error: NUL_MESSAGE })
    .nullish(),
  ticket: z
    .string({ error: 'ticket is text' })
    .max(TICKET_MAX_CHARS, { error: `at most ${TICKET_MAX_CHARS} characters` })
    .refine(noNul, { error: NUL_MESSAGE })
    .nullish(),
  starts_at: z.string({ error: TIMESTAMP_HINT }).max(40).nullish(),
  context: z.record(z.string(), z.json(), { error: 'context is an object of JSON values' }).nullish(),
});

/**
 * Checks an access request body against the policy for `principal` at
 * `nowS`. The first fault found is returned; see docs/access-requests.md for
 * every code, its status and the order of the checks.
 */
export function validateAccessRequest(policy: Policy, input: unknown, opts: ValidateOptions): ValidationResult {
  const maxDurationS = opts.maxDurationS ?? DEFAULT_MAX_DURATION_S;
  const maxAheadS = opts.maxScheduleAheadS ?? DEFAULT_MAX_SCHEDULE_AHEAD_S;
  const { principal, nowS } = opts;

  // 400: the shape of the body.
  if (typeof input === 'object' && input !== null && nestedDeeperThan((input as { context?: unknown }).context, CONTEXT_MAX_DEPTH)) {
    return fail(requestError('body_invalid', `context: nested deeper than ${CONTEXT_MAX_DEPTH} levels`, { field: 'context' }));
  }
  const parsed = body.safeParse(input);
  if (!parsed.success) return fail(bodyError(parsed.error));
  const b = parsed.data;

  if (b.duration === undefined || b.duration === null) {
    return fail(requestError('duration_invalid', `duration is required: ${DURATION_HINT}`, { field: 'duration' }));
  }
  const durationS = parseDuration(b.duration);
  if (durationS === null) {
    return fail(
      requestError('duration_invalid', `duration ${JSON.stringify(b.duration)} is not a positive duration: ${DURATION_HINT}`, {
        field: 'duration',
      }),
    );
  }

  let startsAtS: number | null = null;
  if (typeof b.starts_at === 'string') {
    startsAtS = parseTimestamp(b.starts_at);
    if (startsAtS === null) {
      return fail(requestError('body_invalid', `starts_at: not a timestamp: ${TIMESTAMP_HINT}`, { field: 'starts_at' }));
    }
  }

  let context: Record<string, JsonValue> = {};
  if (b.context) {
    if (Buffer.byteLength(JSON.stringify(b.context)) > CONTEXT_MAX_BYTES) {
      return fail(requestError('body_invalid', `context: at most ${CONTEXT_MAX_BYTES} bytes of JSON`, { field: 'context' }));
    }
    context = b.context as Record<string, JsonValue>;
  }

  const expanded = expandRequest(policy, {
    ...(b.scopes != null ? { scopes: b.scopes } : {}),
    ...(b.bundle != null ? { bundle: b.bundle } : {}),
  });
  if (!expanded.ok) return expanded;
  const scopes = expanded.scopes;
  const defs = scopes.map((s) => policy.scopes.get(s)!);

  // 403: who may ask, and when.
  const eligibility = eligibleScopes(policy, principal, nowS);
  const refused = scopes.filter((s) => !eligibility.scopes.has(s));
  if (refused.length > 0) {
    const eligible = [...eligibility.scopes].sort();
    const may = eligible.length > 0 ? `you may request: ${eligible.join(', ')}` : 'you may not request any scope';
    const bundles = eligibility.bundles.length > 0 ? ` (bundles: ${eligibility.bundles.join(', ')})` : '';
    return fail(
      requestError('not_eligible', `${principal} is not eligible for ${refused.join(', ')}; ${may}${bundles}`, {
        field: expanded.bundle !== null ? 'bundle' : 'scopes',
        scopes: refused,
        eligible,
        eligibleBundles: eligibility.bundles,
      }),
    );
  }

  const startsAt = startsAtS !== null && startsAtS > nowS ? startsAtS : null;
  const outside = defs.filter(
    (d) =>
      d.allowedHours !== null &&
      (!allowedAt(d.allowedHours, policy.timezone, nowS) ||
        (startsAt !== null && !allowedAt(d.allowedHours, policy.timezone, startsAt))),
  );
  if (outside.length > 0) {
    const windows = outside.map((d) => `${d.name} only ${describeWindow(d.allowedHours!)}`).join('; ');
    return fail(
      requestError('outside_allowed_hours', `not requestable at this time (${policy.timezone}): ${windows}`, {
        scopes: outside.map((d) => d.name),
      }),
    );
  }

  // 422: what cannot be granted as asked.
  const resolved = resolveResource(policy, scopes, b.resource ?? null);
  if (!resolved.ok) return resolved;

  const maxS = Math.min(...defs.map((d) => d.maxTtlS ?? maxDurationS));
  if (durationS > maxS) {
    const bounding = defs.filter((d) => (d.maxTtlS ?? maxDurationS) === maxS).map((d) => d.name);
    return fail(
      requestError(
        'duration_too_long',
        `duration ${formatDuration(durationS)} is longer than ${formatDuration(maxS)}, the most ${bounding.join(', ')} allow${bounding.length === 1 ? 's' : ''}`,
        { field: 'duration', maxS },
      ),
    );
  }

  if (startsAtS !== null) {
    if (startsAtS < nowS - STARTS_AT_TOLERANCE_S) {
      return fail(
        requestError('starts_at_invalid', `starts_at ${b.starts_at} is in the past; leave it out to start as soon as approved`, {
          field: 'starts_at',
        }),
      );
    }
    if (startsAtS > nowS + maxAheadS) {
      return fail(
        requestError(
          'starts_at_invalid',
          `starts_at ${b.starts_at} is more than ${formatDuration(maxAheadS)} ahead; the latest start is ${formatTimestamp(nowS + maxAheadS)}`,
          { field: 'starts_at' },
        ),
      );
    }
  }

  const ticket = b.ticket?.trim() || null;
  const patterned = defs.filter((d) => d.ticket !== null);
  if (patterned.length > 0) {
    if (ticket === null) {
      return fail(
        requestError('ticket_required', `a ticket is required for ${patterned.map((d) => d.name).join(', ')}`, { field: 'ticket' }),
      );
    }
    const mismatched = patterned.filter((d) => !d.ticket!.test(ticket));
    if (mismatched.length > 0) {
      const expected = mismatched.map((d) => `${d.name} needs ${d.ticketPattern}`).join('; ');
      return fail(requestError('ticket_invalid', `ticket "${ticket}" does not match: ${expected}`, { field: 'ticket' }));
    }
  }

  const reason = b.reason?.trim() ?? '';
  if (!isSentence(reason)) {
    return fail(
      requestError(
        'reason_required',
        `give a reason of at least ${REASON_MIN_WORDS} words and ${REASON_MIN_CHARS} characters saying why the access is needed`,
        { field: 'reason' },
      ),
    );
  }

  return {
    ok: true,
    value: {
      principal,
      scopes,
      bundle: expanded.bundle,
      resource: resolved.resource,
      durationS,
      reason,
      ticket,
      startsAt,
      context,
      maxRisk: maxRisk(defs.map((d) => d.risk)),
      mfaRequired: principal.startsWith('user:') && defs.some((d) => d.mfa),
    },
  };
}

/** The highest of the risks (`low` for none). */
export function maxRisk(risks: readonly Risk[]): Risk {
  let best = 0;
  for (const r of risks) best = Math.max(best, RISK_ORDER.indexOf(r));
  return RISK_ORDER[best] ?? 'low';
}

/** Audiences of the resources that accept every one of the scopes, in policy order. */
export function resourcesAccepting(policy: Policy, scopes: readonly string[]): string[] {
  const out: string[] = [];
  for (const r of policy.resources.values()) if (scopes.every((s) => r.scopes.includes(s))) out.push(r.audience);
  return out;
}

function resolveResource(
  policy: Policy,
  scopes: readonly string[],
  asked: string | null,
): { ok: true; resource: string } | { ok: false; error: RequestError } {
  const candidates = resourcesAccepting(policy, scopes);
  const could = candidates.length > 0 ? `resources that accept them all: ${candidates.join(', ')}` : 'no resource accepts them all; request them separately';
  if (asked === null) {
    if (candidates.length === 1) return { ok: true, resource: candidates[0]! };
    if (candidates.length === 0) {
      return fail(
        requestError('resource_rejects_scope', `no single resource accepts all of ${scopes.join(', ')}; request them separately`, {
          field: 'resource',
          scopes: [...scopes],
          candidates,
        }),
      );
    }
    return fail(
      requestError('resource_ambiguous', `several resources accept ${scopes.join(', ')}; name one as resource: ${candidates.join(', ')}`, {
        field: 'resource',
        candidates,
      }),
    );
  }
  const resource = policy.resources.get(asked);
  if (!resource) {
    return fail(requestError('resource_unknown', `no resource "${asked}" in the policy; ${could}`, { field: 'resource', candidates }));
  }
  const rejected = scopes.filter((s) => !resource.scopes.includes(s));
  if (rejected.length > 0) {
    return fail(
      requestError('resource_rejects_scope', `${asked} does not accept ${rejected.join(', ')}; ${could}`, {
        field: 'resource',
        scopes: rejected,
        candidates,
      }),
    );
  }
  return { ok: true, resource: asked };
}

/** Whether a JSON value nests objects/arrays more than `max` levels, found without recursion. */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [v, depth] = pending.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) pending.push([child, depth + 1]);
  }
  return false;
}

const WORDLIKE = /[\p{L}\p{N}]/u;

function isSentence(text: string): boolean {
  if (text.length < REASON_MIN_CHARS) return false;
  let words = 0;
  for (const token of text.split(/\s+/)) if (WORDLIKE.test(token)) words++;
  return words >= REASON_MIN_WORDS;
}

function allowedAt(window: HoursWindow, timeZone: string, epochS: number): boolean {
  return inWindow(window, wallClock(epochS * 1000, timeZone));
}

function describeWindow(w: HoursWindow): string {
  return `${w.days.join(',')} ${formatClock(w.fromMin)}–${formatClock(w.toMin)}`;
}

function bodyError(error: z.ZodError): RequestError {
  const issue = error.issues[0];
  if (!issue) return requestError('body_invalid', 'the request body is not valid');
  if (issue.code === 'invalid_type' && issue.path.length === 0) {
    return requestError('body_invalid', 'the request body must be a JSON object');
  }
  if (issue.code === 'unrecognized_keys') {
    return requestError(
      'body_invalid',
      `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; the keys are scopes, bundle, resource, duration, reason, ticket, starts_at, context`,
      { field: issue.keys[0] ?? '' },
    );
  }
  const field = issue.path.map(String).join('.');
  return requestError('body_invalid', `${field}: ${issue.message}`, { field });
}

function fail(error: RequestError): { ok: false; error: RequestError } {
  return { ok: false, error };
}
