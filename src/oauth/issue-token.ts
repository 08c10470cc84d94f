import type { ServerContext } from '../http/context.js';
import type { AccessTokenClaims } from '../tokens/claims.js';
import { mintAccessTokenOffThread } from '../tokens/mint.js';
import { newJti, tokenHash } from '../tokens/token-hash.js';
import { nowS } from '../util/clock.js';
import { formatScope } from '../util/scope-string.js';

export interface TokenSpec {
  sub: string;
  clientId: string;
  audience: string;
  scopes: string[];
  lifetimeS: number;
  /** Elevated tokens: the grant whose window bounds `exp`. */
  grantId?: string;
  /** Hard upper bound for `exp` (the grant's end), epoch seconds. */
  notAfter?: number;
  acr?: string | null;
  amr?: string[] | null;
  authTime?: number | null;
  /** The audit event: `token.issued`, or `token.exchanged` with the subject token's jti. */
  exchangedFrom?: string;
}

export interface IssuedToken {
  token: string;
  claims: AccessTokenClaims;
  expiresIn: number;
}

/**
 * Mints an RFC 9068 access token and records it. The response waits for the
 * record to commit (introspection must know every token it hands out), but
 * the write is group-committed with the other tokens of the same tick.
 */
export async function issueAccessToken(ctx: ServerContext, spec: TokenSpec): Promise<IssuedToken> {
  const iat = nowS(ctx.clock);
  let exp = iat + spec.lifetimeS;
  if (spec.notAfter !== undefined && spec.notAfter < exp) exp = spec.notAfter;
  const claims: AccessTokenClaims = {
    iss: ctx.config.issuer,
    sub: spec.sub,
    aud: spec.audience,
    client_id: spec.clientId,
    scope: formatScope(spec.scopes),
    jti: newJti(ctx.clock.nowMs()),
    iat,
    exp,
  };
  if (spec.acr) claims.acr = spec.acr;
  if (spec.amr && spec.amr.length) claims.amr = spec.amr;
  if (spec.authTime != null) claims.auth_time = spec.authTime;
  if (spec.grantId) claims.grant = spec.grantId;

  const signer = ctx.keyring.signer(iat);
  // Off the event loop: ECDSA is most of a token's CPU cost (see src/tokens/mint.ts).
  const token = await mintAccessTokenOffThread(signer, claims);
  const row = {
    jti: claims.jti,
    token_hash: tokenHash(token),
    sub: claims.sub,
    client_id: claims.client_id,
    aud: claims.aud,
    scope: claims.scope,
    grant_id: spec.grantId ?? null,
    kid: signer.kid,
    iat,
    exp,
    auth_time: spec.authTime ?? null,
    acr: spec.acr ?? null,
    amr: spec.amr && spec.amr.length ? JSON.stringify(spec.amr) : null,
    revoked_at: null,
    revoked_reason: null,
  };
  await ctx.tokens.record(row, {
    type: spec.exchangedFrom ? 'token.exchanged' : 'token.issued',
    actor: `client:${claims.client_id}`,
    subject: claims.sub,
    // Never the token: its id, what it carries and until when.
    data: {
      jti: claims.jti,
      client_id: claims.client_id,
      scopes: spec.scopes,
      aud: claims.aud,
      exp,
      ...(spec.grantId ? { grant: spec.grantId } : {}),
      ...(spec.exchangedFrom ? { exchanged_from: spec.exchangedFrom } : {}),
    },
    atMs: iat * 1000,
  });
  return { token, claims, expiresIn: exp - iat };
}
