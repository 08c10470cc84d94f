import type { GrantHandler } from './grant.js';
import type { ServerContext } from '../../http/context.js';
import { required, single } from '../../http/form-body.js';
import { InvalidGrant } from '../errors.js';
import { principalKnown } from '../../access/entitlements.js';
import { issueBaselineToken } from '../issue-baseline.js';
import { tokenResponse } from '../token-response.js';
import { revokeToken } from '../revoke-token.js';
import { issueRefreshToken, revokeRefreshFamily } from '../refresh-tokens.js';
import { tokenHash } from '../../tokens/token-hash.js';
import { nowS } from '../../util/clock.js';
import { verifierMatches } from '../../login/pkce.js';
import { recordIssuedFromCode, redeemAuthorizationCode, type IssuedFromCode } from '../../login/authorization-codes.js';

/**
 * RFC 6749 §4.1.3 with PKCE (RFC 7636): a code issued by the login page
 * becomes a baseline token for the person who signed in, carrying how they
 * did (`acr`, `amr`, `auth_time`), and the start of a refresh token family.
 * A code is redeemed once; a second try is refused and revokes everything
 * the first redemption issued (RFC 6749 §4.1.2), since one of the two
 * redeemers has stolen it. Every failure consumes the code.
 */
export const authorizationCode: GrantHandler = async (ctx, authenticated, params) => {
  const code = required(params, 'code');
  const redirectUri = required(params, 'redirect_uri');
  const verifier = required(params, 'code_verifier');
  const client = authenticated.client;

  const redeemed = await redeemAuthorizationCode(ctx, code);
  if (redeemed === null) throw new InvalidGrant('the authorization code is unknown');
  if (redeemed.kind === 'replayed') {
    await revokeIssued(ctx, `client:${client.id}`, redeemed.issued, 'authorization code replayed');
    throw new InvalidGrant('the authorization code was already used; the tokens issued from it are revoked');
  }
  const stored = redeemed.code;
  if (stored.clientId !== client.id) throw new InvalidGrant('the authorization code was issued to another client');
  if (stored.expiresAt <= nowS(ctx.clock)) throw new InvalidGrant('the authorization code has expired');
  if (stored.redirectUri !== redirectUri) throw new InvalidGrant('redirect_uri does not match the authorization request');
  if (!verifierMatches(verifier, stored.codeChallenge)) throw new InvalidGrant('code_verifier does not match the code_challenge');

  const policy = ctx.policy.current;
  const person = stored.person;
  if (!principalKnown(policy, person.principal)) throw new InvalidGrant(`${person.principal} is not a member of any group in the policy`);

  const tokenParams = new URLSearchParams();
  // The scope and resource of the authorization request; the token request may narrow the scope.
  const narrowed = single(params, 'scope');
  const scope = narrowed ?? stored.scope;
  if (scope !== null) tokenParams.set('scope', scope);
  if (stored.resource !== null) tokenParams.set('resource', stored.resource);
  const issued = await issueBaselineToken(ctx, client, person.principal, tokenParams, {
    acr: person.acr,
    amr: person.amr,
    authTime: person.authTime,
  });
  const refresh = await issueRefreshToken(ctx, {
    clientId: client.id,
    principal: person.principal,
    scope: issued.claims.scope === '' ? [] : issued.claims.scope.split(' '),
    person,
    resource: stored.resource,
    accessJti: issued.claims.jti,
  });
  const fromCode: IssuedFromCode = { jtis: [issued.claims.jti], refreshHash: tokenHash(refresh) };
  if (await recordIssuedFromCode(ctx, stored.codeHash, fromCode)) {
    await revokeIssued(ctx, `client:${client.id}`, fromCode, 'authorization code replayed');
    throw new InvalidGrant('the authorization code was used twice; the tokens issued from it are revoked');
  }
  return { ...tokenResponse(issued), refresh_token: refresh };
};

/** Revokes the access tokens and the refresh token family issued from a replayed code. */
async function revokeIssued(ctx: ServerContext, by: string, issued: IssuedFromCode, reason: string): Promise<void> {
  const now = nowS(ctx.clock);
  if (issued.refreshHash !== null) {
    const family = await ctx.store.db
      .selectFrom('refresh_tokens')
      .select(['family_id', 'client_id', 'principal'])
      .where('token_hash', '=', issued.refreshHash)
      .executeTakeFirst();
    if (family) await revokeRefreshFamily(ctx, family, by, reason, 'refresh_token.revoked');
  }
  if (issued.jtis.length === 0) return;
  const tokens = await ctx.store.db.selectFrom('tokens').select(['jti', 'sub', 'client_id']).where('jti', 'in', issued.jtis).execute();
  for (const t of tokens) await revokeToken(ctx, t, now, by, reason);
}
