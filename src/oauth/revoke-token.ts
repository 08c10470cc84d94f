import type { ServerContext } from '../http/context.js';
export { findIssuedToken } from './issued-token.js';

/** Marks a token revoked; idempotent, the first revocation's time and reason stay. */
export async function revokeToken(ctx: ServerContext, jti: string, atS: number, reason: string): Promise<boolean> {
  const res = await ctx.store.db
    .updateTable('tokens')
    .set({ revoked_at: atS, revoked_reason: reason })
    .where('jti', '=', jti)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
