import type { Transaction } from 'kysely';
import type { ServerContext } from '../http/context.js';
import type { Database } from '../store/schema.js';
export { findIssuedToken } from './issued-token.js';

/** Token ids per `IN (…)` list: well under either database's parameter limit. */
const JTI_CHUNK = 500;

/**
 * Marks many tokens revoked inside the caller's transaction (which records
 * what it stands for); tokens already revoked keep their first time and reason.
 */
export async function markTokensRevoked(trx: Transaction<Database>, jtis: readonly string[], atS: number, reason: string): Promise<void> {
  for (let i = 0; i < jtis.length; i += JTI_CHUNK) {
    await trx
      .updateTable('tokens')
      .set({ revoked_at: atS, revoked_reason: reason })
      .where('jti', 'in', jtis.slice(i, i + JTI_CHUNK))
      .where('revoked_at', 'is', null)
      .execute();
  }
}

/**
 * Marks a token revoked and records `token.revoked` in the same transaction;
 * idempotent: the first revocation's time and reason stay, and only it is
 * recorded.
 */
export async function revokeToken(
  ctx: ServerContext,
  token: { jti: string; sub: string; client_id: string },
  atS: number,
  by: string,
  reason: string,
): Promise<boolean> {
  return ctx.audit.transact(async (trx, append) => {
    const res = await trx
      .updateTable('tokens')
      .set({ revoked_at: atS, revoked_reason: reason })
      .where('jti', '=', token.jti)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    await append([{ type: 'token.revoked', actor: by, subject: token.sub, data: { jti: token.jti, client_id: token.client_id, reason } }]);
    return true;
  });
}
