import type { GrantHandler } from './grant.js';
import { required, single } from '../../http/form-body.js';
import { InvalidGrant, InvalidRequest, InvalidScope } from '../errors.js';
import { baselineScopes, principalKnown } from '../../access/entitlements.js';
import { shapeToken } from '../token-scopes.js';
import { issueAccessToken } from '../issue-token.js';
import { tokenResponse } from '../token-response.js';
import { findRefreshToken, personOf, revokeRefreshFamily, rotateRefreshToken } from '../refresh-tokens.js';
import { revokeToken } from '../revoke-token.js';
import { nowS } from '../../util/clock.js';
import { parseScopeParam } from '../../util/scope-string.js';

/**
 * RFC 6749 §6 with OAuth 2.1 §4.3 rotation. The refresh token is single use:
 * each use returns a new one of the same family, and a second use of a
 * used one revokes the family with every access token issued from it.
 * The new access token carries the login's `amr`/`acr`/`auth_time` (a
 * refresh is not a fresh sign-in) and only the family's scopes that the
 * policy in force still gives the principal as baseline; `scope` may narrow.
 */
export const refreshToken: GrantHandler = async (ctx, { client }, params) => {
  const presented = required(params, 'refresh_token');
  const row = await findRefreshToken(ctx, presented);
  // Another client's token is as good as unknown to this one (RFC 6749 §10.4).
  if (!row || row.client_id !== client.id) throw new InvalidGrant('the refresh token is invalid');
  if (row.revoked_at !== null) throw new InvalidGrant('the refresh token has been revoked');
  if (row.used_at !== null) {
    await revokeRefreshFamily(ctx, row, `client:${client.id}`, 'refresh token reused', 'refresh_token.reused');
    throw new InvalidGrant('the refresh token was already used; its whole family is now revoked');
  }
  const now = nowS(ctx.clock);
  if (now >= Number(row.family_expires_at) || now >= Number(row.expires_at)) {
    throw new InvalidGrant('the refresh token has expired; log in again');
  }

  const policy = ctx.policy.current;
  if (!principalKnown(policy, row.principal)) throw new InvalidGrant(`${row.principal} is no longer in the policy`);
  const granted = row.scope === '' ? [] : row.scope.split(' ');
  const baseline = baselineScopes(policy, row.principal);
  const allowed = new Set(granted.filter((s) => baseline.has(s)));

  const scopeParam = single(params, 'scope');
  if (scopeParam !== undefined) {
    const asked = parseScopeParam(scopeParam);
    if (asked === null) throw new InvalidRequest('scope contains a malformed scope token');
    const beyond = asked.filter((s) => !granted.includes(s));
    if (beyond.length) {
      throw new InvalidScope(`a refresh may only narrow the login's scopes: ${beyond.join(' ')} was not granted`, { scopes: beyond });
    }
  }
  const resourceParams = params.getAll('resource');
  // Shaped before the token is spent: a refusal here leaves the refresh token usable.
  const shape = shapeToken({
    policy,
    issuer: ctx.config.issuer,
    client,
    scopeParam,
    resourceParams: resourceParams.length ? resourceParams : row.resource ? [row.resource] : [],
    allowed,
    defaultLifetimeS: ctx.config.tokenLifetimeS,
  });

  const person = personOf(row);
  // Minted before the rotation commits, so the new refresh token is bound to
  // it from its first instant: revoking the family always finds it.
  const issued = await issueAccessToken(ctx, {
    sub: row.principal,
    clientId: client.id,
    audience: shape.audience,
    scopes: shape.scopes,
    lifetimeS: shape.lifetimeS,
    acr: person.acr,
    amr: person.amr,
    authTime: row.auth_time === null ? null : person.authTime,
  });
  const rotation = await rotateRefreshToken(ctx, row, issued.claims.jti);
  if (!rotation.ok) {
    // This use lost: the token it minted never leaves the server.
    await revokeToken(ctx, issued.claims, nowS(ctx.clock), `client:${client.id}`, 'refresh token already used');
    if (rotation.reason === 'used') {
      await revokeRefreshFamily(ctx, row, `client:${client.id}`, 'refresh token reused', 'refresh_token.reused');
      throw new InvalidGrant('the refresh token was already used; its whole family is now revoked');
    }
    throw new InvalidGrant('the refresh token has been revoked');
  }
  return { ...tokenResponse(issued), refresh_token: rotation.token };
};
