import type { ServerContext } from '../http/context.js';
import type { AuditLog } from '../audit/log.js';
import type { TokenRow } from './issued-token.js';

/** Why a token that would otherwise still work was refused: someone ended it. */
export type RevokedTokenCause = 'token_revoked' | 'grant_revoked' | 'grant_released';

/** Where the token was presented; `gateway`: refused at a gateway, which reported it (src/usage/gateway-refusals.ts). */
export type PresentedAt = 'introspection' | 'api' | 'gateway';

/** A token presented again and again is recorded once per this window. */
const REPORT_EVERY_MS = 60_000;
/** Tokens remembered at most; past this the oldest reports are forgotten (and may be recorded again). */
const MAX_REMEMBERED = 10_000;

const lastReported = new WeakMap<AuditLog, Map<string, number>>();

/**
 * Records `token.revoked_use` (feeding the `revoked_token_use` alert) when a
 * token was found but refused because it, or its grant, was revoked or
 * released. Fire and forget: the caller answers at once and the write runs
 * behind it, at most once a minute per token, so replaying a dead token
 * cannot turn into a flood of audit writes. Only the token's id is
 * recorded, never the token.
 */
export function recordRevokedTokenUse(ctx: ServerContext, row: TokenRow, cause: RevokedTokenCause, presentedAt: PresentedAt): void {
  const nowMs = ctx.clock.nowMs();
  let seen = lastReported.get(ctx.audit);
  if (!seen) lastReported.set(ctx.audit, (seen = new Map()));
  const last = seen.get(row.jti);
  if (last !== undefined && nowMs - last < REPORT_EVERY_MS) return;
  seen.delete(row.jti);
  seen.set(row.jti, nowMs);
  for (const jti of seen.keys()) {
    if (seen.size <= MAX_REMEMBERED) break;
    seen.delete(jti);
  }
  ctx.audit
    .transact((_trx, append) =>
      append([
        {
          type: 'token.revoked_use',
          actor: null,
          subject: row.sub,
          data: { jti: row.jti, client_id: row.client_id, grant_id: row.grant_id, cause, presented_at: presentedAt },
          atMs: nowMs,
        },
      ]),
    )
    .catch((err) => ctx.log.error({ err, jti: row.jti }, 'recording the use of a revoked token failed'));
}
