import { randomBytes } from 'node:crypto';
import type { ServerContext } from '../http/context.js';
import type { AuthenticatedPerson } from '../identity/person.js';
import { FailureLimiter } from '../http/failure-limiter.js';
import { tokenHash } from '../tokens/token-hash.js';
import { nowS } from '../util/clock.js';
import { formatScope } from '../util/scope-string.js';

/** RFC 8628 §6.1: consonants only (no vowels, so no words; no 0/O or 1/I to confuse). */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;
/** How long a device authorization may wait for its person, seconds. */
export const DEVICE_CODE_LIFETIME_S = 600;
/** Least seconds between two polls (RFC 8628 §3.2 default). */
export const DEVICE_POLL_INTERVAL_S = 5;
/** Rows this long past their expiry are deleted when a new authorization is made. */
const KEEP_EXPIRED_S = 3600;

/**
 * Wrong user codes allowed per caller (an address or a principal) in a
 * window. With 20^8 codes and a few pending ones guessing is hopeless
 * anyway; the limit keeps it so.
 */
const limiters = new WeakMap<ServerContext, FailureLimiter>();
function limiterOf(ctx: ServerContext): FailureLimiter {
  let l = limiters.get(ctx);
  if (!l) {
    l = new FailureLimiter({ maxFailures: 20, windowMs: 300_000 });
    limiters.set(ctx, l);
  }
  return l;
}

/** Whom a user code lookup comes from, for the guessing limit; all unnamed callers share one budget. */
export interface UserCodeCaller {
  from?: string;
}

/** A user code as stored: upper case, no dash or spaces; null when it cannot be one of ours. */
export function normalizeUserCode(input: string): string | null {
  const code = input.replace(/[-\s]/g, '').toUpperCase();
  if (code.length !== USER_CODE_LENGTH) return null;
  for (const c of code) if (!USER_CODE_ALPHABET.includes(c)) return null;
  return code;
}

/** `BCDFGHJK` → `BCDF-GHJK`, the form shown to people. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** Uniform over the alphabet: bytes ≥ 240 (= 12 × 20) are drawn again rather than skewing toward early letters. */
function newUserCode(): string {
  let out = '';
  while (out.length < USER_CODE_LENGTH) {
    for (const b of randomBytes(16)) {
      if (b >= 240) continue;
      out += USER_CODE_ALPHABET[b % 20];
      if (out.length === USER_CODE_LENGTH) break;
    }
  }
  return out;
}

/** A device authorization as the token endpoint answers it (RFC 8628 §3.2). */
export interface NewDeviceAuthorization {
  deviceCode: string;
  /** As shown: `XXXX-XXXX`. */
  userCode: string;
  expiresIn: number;
  interval: number;
}

/** Records a new pending device authorization for `clientId`. */
export async function createDeviceAuthorization(
  ctx: ServerContext,
  input: { clientId: string; scope: string[]; resource: string | null },
): Promise<NewDeviceAuthorization> {
  const now = nowS(ctx.clock);
  const deviceCode = randomBytes(32).toString('base64url');
  await ctx.store.db.deleteFrom('device_authorizations').where('expires_at', '<', now - KEEP_EXPIRED_S).execute();
  // A collision with a live code is refused by the unique index; draw again.
  for (let attempt = 0; ; attempt++) {
    const userCode = newUserCode();
    try {
      await ctx.store.db
        .insertInto('device_authorizations')
        .values({
          device_code_hash: tokenHash(deviceCode),
          user_code: userCode,
          client_id: input.clientId,
          scope: formatScope(input.scope),
          resource: input.resource,
          status: 'pending',
          principal: null,
          acr: null,
          amr: null,
          auth_time: null,
          created_at: now,
          expires_at: now + DEVICE_CODE_LIFETIME_S,
          interval_s: DEVICE_POLL_INTERVAL_S,
          last_polled_at_ms: null,
        })
        .execute();
      return { deviceCode, userCode: formatUserCode(userCode), expiresIn: DEVICE_CODE_LIFETIME_S, interval: DEVICE_POLL_INTERVAL_S };
    } catch (err) {
      if (attempt >= 4) throw err;
      const taken = await ctx.store.db.selectFrom('device_authorizations').select('user_code').where('user_code', '=', userCode).executeTakeFirst();
      if (!taken) throw err;
    }
  }
}

/** Null (and a failure counted) when the code is malformed or the caller has guessed too often. */
function admitUserCode(ctx: ServerContext, userCode: string, caller: UserCodeCaller): string | null {
  const key = caller.from ?? '*';
  const nowMs = ctx.clock.nowMs();
  const limiter = limiterOf(ctx);
  if (limiter.blockedFor(key, nowMs) > 0) return null;
  const code = normalizeUserCode(userCode);
  if (code === null) limiter.recordFailure(key, nowMs);
  return code;
}

function missed(ctx: ServerContext, caller: UserCodeCaller): void {
  limiterOf(ctx).recordFailure(caller.from ?? '*', ctx.clock.nowMs());
}

/**
 * The pending, unexpired device authorization a person typed the code of,
 * or null. Codes compare case-insensitively and without the dash.
 */
export async function findDeviceAuthorization(
  ctx: ServerContext,
  userCode: string,
  caller: UserCodeCaller = {},
): Promise<{ clientId: string; scope: string[]; expiresAt: number } | null> {
  const code = admitUserCode(ctx, userCode, caller);
  if (code === null) return null;
  const row = await ctx.store.db
    .selectFrom('device_authorizations')
    .select(['client_id', 'scope', 'expires_at'])
    .where('user_code', '=', code)
    .where('status', '=', 'pending')
    .where('expires_at', '>', nowS(ctx.clock))
    .executeTakeFirst();
  if (!row) {
    missed(ctx, caller);
    return null;
  }
  return { clientId: row.client_id, scope: row.scope === '' ? [] : row.scope.split(' '), expiresAt: Number(row.expires_at) };
}

/**
 * The person approves the device: its next poll gets a token for them.
 * False when the code is unknown, no longer pending or expired.
 */
export async function approveDeviceAuthorization(
  ctx: ServerContext,
  userCode: string,
  person: AuthenticatedPerson,
  caller: UserCodeCaller = {},
): Promise<boolean> {
  const code = admitUserCode(ctx, userCode, caller);
  if (code === null) return false;
  const now = nowS(ctx.clock);
  const done = await ctx.audit.transact(async (trx, append) => {
    const row = await trx
      .updateTable('device_authorizations')
      .set({
        status: 'approved',
        principal: person.principal,
        acr: person.acr,
        amr: person.amr.length ? JSON.stringify(person.amr) : null,
        auth_time: person.authTime,
      })
      .where('user_code', '=', code)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .returning(['client_id', 'scope'])
      .executeTakeFirst();
    if (!row) return false;
    await append([
      {
        type: 'device_authorization.approved',
        actor: person.principal,
        subject: person.principal,
        data: { client_id: row.client_id, scopes: row.scope === '' ? [] : row.scope.split(' ') },
      },
    ]);
    return true;
  });
  if (!done) missed(ctx, caller);
  return done;
}

/** The person refuses the device: its next poll gets `access_denied`. False when not pending. */
export async function denyDeviceAuthorization(ctx: ServerContext, userCode: string, caller: UserCodeCaller = {}): Promise<boolean> {
  const code = admitUserCode(ctx, userCode, caller);
  if (code === null) return false;
  const now = nowS(ctx.clock);
  const done = await ctx.audit.transact(async (trx, append) => {
    const row = await trx
      .updateTable('device_authorizations')
      .set({ status: 'denied' })
      .where('user_code', '=', code)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .returning(['client_id'])
      .executeTakeFirst();
    if (!row) return false;
    await append([{ type: 'device_authorization.denied', actor: null, subject: null, data: { client_id: row.client_id } }]);
    return true;
  });
  if (!done) missed(ctx, caller);
  return done;
}

/** What a poll of the token endpoint finds (RFC 8628 §3.5). */
export type DevicePoll =
  | { state: 'unknown' }
  | { state: 'pending' | 'slow_down' | 'denied' | 'expired' | 'consumed' }
  | {
      state: 'approved';
      scope: string[];
      resource: string | null;
      person: AuthenticatedPerson;
      /** Consumes the authorization; true for exactly one caller. */
      consume(): Promise<boolean>;
    };

/**
 * Reads the device authorization of `deviceCode` for the polling client and
 * records the poll. A poll sooner than the interval after the previous one
 * is `slow_down`, and the interval grows by 5 seconds for good.
 */
export async function pollDeviceAuthorization(ctx: ServerContext, clientId: string, deviceCode: string): Promise<DevicePoll> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(deviceCode)) return { state: 'unknown' };
  const hash = tokenHash(deviceCode);
  const db = ctx.store.db;
  const row = await db.selectFrom('device_authorizations').selectAll().where('device_code_hash', '=', hash).executeTakeFirst();
  if (!row || row.client_id !== clientId) return { state: 'unknown' };
  if (row.status === 'consumed') return { state: 'consumed' };
  const nowMs = ctx.clock.nowMs();
  if (Math.floor(nowMs / 1000) >= Number(row.expires_at)) return { state: 'expired' };
  if (row.status === 'denied') return { state: 'denied' };

  const interval = Number(row.interval_s);
  const last = row.last_polled_at_ms === null ? null : Number(row.last_polled_at_ms);
  if (last !== null && nowMs - last < interval * 1000) {
    await db
      .updateTable('device_authorizations')
      .set({ interval_s: interval + 5, last_polled_at_ms: nowMs })
      .where('device_code_hash', '=', hash)
      .execute();
    return { state: 'slow_down' };
  }
  await db.updateTable('device_authorizations').set({ last_polled_at_ms: nowMs }).where('device_code_hash', '=', hash).execute();
  if (row.status !== 'approved' || row.principal === null) return { state: 'pending' };

  return {
    state: 'approved',
    scope: row.scope === '' ? [] : row.scope.split(' '),
    resource: row.resource,
    person: {
      principal: row.principal,
      acr: row.acr,
      amr: row.amr ? (JSON.parse(row.amr) as string[]) : [],
      authTime: row.auth_time === null ? 0 : Number(row.auth_time),
    },
    async consume() {
      const res = await db
        .updateTable('device_authorizations')
        .set({ status: 'consumed' })
        .where('device_code_hash', '=', hash)
        .where('status', '=', 'approved')
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
  };
}
