import type { ServerContext } from '../http/context.js';
import { nowS } from '../util/clock.js';
import { randomToken, sha256 } from './secrets.js';
import type { AuthorizeRequest } from './authorize-request.js';

/** How long a person has to finish signing in. */
export const LOGIN_REQUEST_TTL_S = 600;
/** Rows this long past their expiry are deleted when a new sign-in starts. */
const KEEP_EXPIRED_S = 3600;

export type PendingLogin =
  | { id: string; kind: 'authorize'; request: AuthorizeRequest; requireMfa: boolean; browserHash: string; upstream: UpstreamLeg | null }
  | { id: string; kind: 'device'; request: { userCode: string | null }; requireMfa: boolean; browserHash: string; upstream: UpstreamLeg | null };

/** What jitgate sent to the upstream provider, to check what comes back. */
export interface UpstreamLeg {
  nonce: string;
  verifier: string;
}

/** Records a sign-in in progress, bound to the browser whose pre-login cookie is `browserValue`. */
export async function createPendingLogin(
  ctx: ServerContext,
  kind: PendingLogin['kind'],
  request: PendingLogin['request'],
  requireMfa: boolean,
  browserValue: string,
): Promise<string> {
  const id = randomToken(24);
  const now = nowS(ctx.clock);
  // Abandoned sign-ins go when new ones come, as device authorizations do.
  await ctx.store.db.deleteFrom('login_requests').where('expires_at', '<', now - KEEP_EXPIRED_S).execute();
  await ctx.store.db
    .insertInto('login_requests')
    .values({
      id,
      kind,
      params: JSON.stringify(request),
      require_mfa: requireMfa ? 1 : 0,
      browser_hash: sha256(browserValue),
      upstream_state_hash: null,
      upstream_nonce: null,
      upstream_verifier: null,
      created_at: now,
      expires_at: now + LOGIN_REQUEST_TTL_S,
    })
    .execute();
  return id;
}

type Row = {
  id: string;
  kind: string;
  params: string;
  require_mfa: number;
  browser_hash: string;
  upstream_nonce: string | null;
  upstream_verifier: string | null;
  expires_at: number;
};

function toPending(row: Row): PendingLogin {
  const upstream = row.upstream_nonce && row.upstream_verifier ? { nonce: row.upstream_nonce, verifier: row.upstream_verifier } : null;
  const base = { id: row.id, requireMfa: row.require_mfa === 1, browserHash: row.browser_hash, upstream };
  return row.kind === 'device'
    ? { ...base, kind: 'device', request: JSON.parse(row.params) as { userCode: string | null } }
    : { ...base, kind: 'authorize', request: JSON.parse(row.params) as AuthorizeRequest };
}

/** A live sign-in in progress by id; null when unknown or expired. */
export async function findPendingLogin(ctx: ServerContext, id: string): Promise<PendingLogin | null> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return null;
  const row = await ctx.store.db.selectFrom('login_requests').selectAll().where('id', '=', id).executeTakeFirst();
  return row && row.expires_at > nowS(ctx.clock) ? toPending(row) : null;
}

/** The sign-in in progress an upstream provider's `state` belongs to. */
export async function findPendingByUpstreamState(ctx: ServerContext, state: string): Promise<PendingLogin | null> {
  const row = await ctx.store.db.selectFrom('login_requests').selectAll().where('upstream_state_hash', '=', sha256(state)).executeTakeFirst();
  return row && row.expires_at > nowS(ctx.clock) ? toPending(row) : null;
}

/** Remembers the upstream leg (state by hash, nonce, PKCE verifier) of a sign-in in progress. */
export async function recordUpstreamLeg(ctx: ServerContext, id: string, state: string, leg: UpstreamLeg): Promise<void> {
  await ctx.store.db
    .updateTable('login_requests')
    .set({ upstream_state_hash: sha256(state), upstream_nonce: leg.nonce, upstream_verifier: leg.verifier })
    .where('id', '=', id)
    .execute();
}

/** Ends a sign-in in progress; true for the one caller that ended it (single use). */
export async function consumePendingLogin(ctx: ServerContext, id: string): Promise<boolean> {
  const res = await ctx.store.db.deleteFrom('login_requests').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) === 1;
}

/** Replaces the request of a sign-in in progress (the device page learns the user code only from the post). */
export async function updatePendingRequest(ctx: ServerContext, id: string, request: PendingLogin['request']): Promise<void> {
  await ctx.store.db.updateTable('login_requests').set({ params: JSON.stringify(request) }).where('id', '=', id).execute();
}
