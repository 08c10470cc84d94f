import type { Kysely } from 'kysely';
import type { ServerContext } from '../http/context.js';
import type { Database } from '../store/schema.js';
import type { AuthenticatedPerson } from '../identity/person.js';
import { nowS } from '../util/clock.js';
import { randomToken, sha256 } from './secrets.js';

/** A session unused this long ends. */
export const SESSION_IDLE_S = 8 * 3600;
/** No session lives longer than this, however busy. */
export const SESSION_MAX_S = 24 * 3600;

export interface LoginSession extends AuthenticatedPerson {
  idHash: string;
}

/**
 * Starts a session for the person, in the caller's transaction (so it is
 * committed with its audit event); returns the cookie value, of which only
 * the hash is stored.
 */
export async function createSession(db: Kysely<Database>, person: AuthenticatedPerson, now: number): Promise<string> {
  const value = randomToken();
  await db.deleteFrom('login_sessions').where('expires_at', '<', now).execute();
  await db
    .insertInto('login_sessions')
    .values({
      id_hash: sha256(value),
      principal: person.principal,
      amr: JSON.stringify(person.amr),
      acr: person.acr,
      auth_time: person.authTime,
      created_at: now,
      last_seen_at: now,
      expires_at: Math.min(now + SESSION_IDLE_S, now + SESSION_MAX_S),
    })
    .execute();
  return value;
}

/** The live session of a cookie value, its idle limit moved forward; null when absent or over. */
export async function findSession(ctx: ServerContext, cookieValue: string | undefined): Promise<LoginSession | null> {
  if (!cookieValue) return null;
  const idHash = sha256(cookieValue);
  const row = await ctx.store.db.selectFrom('login_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
  const now = nowS(ctx.clock);
  if (!row || row.expires_at <= now) return null;
  const expiresAt = Math.min(now + SESSION_IDLE_S, row.created_at + SESSION_MAX_S);
  // Moved at most once a minute: a busy session does not write on every request.
  if (expiresAt - row.expires_at >= 60) {
    await ctx.store.db.updateTable('login_sessions').set({ last_seen_at: now, expires_at: expiresAt }).where('id_hash', '=', idHash).execute();
  }
  return { idHash, principal: row.principal, amr: JSON.parse(row.amr) as string[], acr: row.acr, authTime: row.auth_time };
}

/** Ends a session (a new sign-in replaces it). */
export async function endSession(db: Kysely<Database>, idHash: string): Promise<void> {
  await db.deleteFrom('login_sessions').where('id_hash', '=', idHash).execute();
}
