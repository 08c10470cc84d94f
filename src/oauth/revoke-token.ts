import type { ServerContext } from '../http/context.js';
export { findIssuedToken } from './issued-token.js';

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
