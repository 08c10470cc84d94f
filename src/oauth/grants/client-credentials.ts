import type { GrantHandler } from './grant.js';
import { single } from '../../http/form-body.js';
import { UnauthorizedClient } from '../errors.js';
import { baselineScopes } from '../../access/entitlements.js';
import { shapeToken } from '../token-scopes.js';
import { issueAccessToken } from '../issue-token.js';
import { tokenResponse } from '../token-response.js';

/**
 * RFC 6749 §4.4: a confidential client gets a token for itself
 * (`sub` = `client:<id>`) with its baseline scopes only. Elevated scopes
 * come through an access request and token exchange, never from here.
 */
export const clientCredentials: GrantHandler = async (ctx, { client, method }, params) => {
  if (method === 'none') throw new UnauthorizedClient('client_credentials needs a confidential client');
  const policy = ctx.policy.current;
  const principal = `client:${client.id}`;
  const shape = shapeToken({
    policy,
    issuer: ctx.config.issuer,
    client,
    scopeParam: single(params, 'scope'),
    resourceParams: params.getAll('resource'),
    allowed: baselineScopes(policy, principal),
    defaultLifetimeS: ctx.config.tokenLifetimeS,
  });
  const issued = await issueAccessToken(ctx, {
    sub: principal,
    clientId: client.id,
    audience: shape.audience,
    scopes: shape.scopes,
    lifetimeS: shape.lifetimeS,
  });
  return tokenResponse(issued);
};
