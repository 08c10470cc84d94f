import type { GrantHandler } from './grant.js';
import { required, single } from '../../http/form-body.js';
import { InvalidGrant, InvalidRequest } from '../errors.js';
import { principalKnown } from '../../access/entitlements.js';
import { issueBaselineToken } from '../issue-baseline.js';
import { ACCESS_TOKEN_TYPE, tokenResponse } from '../token-response.js';
import { FederationVerifier } from '../../identity/federation.js';
import { elevate } from './elevation.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

const SUBJECT_TOKEN_TYPES = new Set([
  'urn:ietf:params:oauth:token-type:id_token',
  'urn:ietf:params:oauth:token-type:jwt',
  ACCESS_TOKEN_TYPE,
]);

/**
 * RFC 8693 token exchange. A jitgate token of the principal is exchanged for
 * an elevated one under an active grant (see elevation.ts). A token from one of the policy's trusted issuers
 * (an OIDC ID token, a CI workload token) becomes a baseline jitgate token
 * for the principal its subject maps to; its authentication facts
 * (`acr`, `amr`, `auth_time`) travel with it.
 */
export const tokenExchange: GrantHandler = async (ctx, authenticated, params) => {
  const subjectToken = required(params, 'subject_token');
  const subjectTokenType = required(params, 'subject_token_type');
  if (!SUBJECT_TOKEN_TYPES.has(subjectTokenType)) {
    throw new InvalidRequest(`unsupported subject_token_type ${subjectTokenType}`);
  }
  const requestedType = single(params, 'requested_token_type');
  if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) {
    throw new InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
  }
  if (single(params, 'actor_token') !== undefined) {
    throw new InvalidRequest('delegation (actor_token) is not supported');
  }

  if (FederationVerifier.issuerOf(subjectToken) === ctx.config.issuer) {
    return elevate(ctx, authenticated, params, subjectToken);
  }
  const client = authenticated.client;
  const policy = ctx.policy.current;
  const trusted = FederationVerifier.claimedIssuer(policy, subjectToken);
  if (!trusted) throw new InvalidGrant('subject_token is not from a trusted issuer');
  const identity = await ctx.federation.verify(trusted, subjectToken, ctx.clock.nowMs());
  if (!principalKnown(policy, identity.principal)) {
    throw new InvalidGrant(`${identity.principal} is not a member of any group in the policy`);
  }

  const issued = await issueBaselineToken(ctx, client, identity.principal, params, {
    acr: identity.acr,
    amr: identity.amr,
    authTime: identity.authTime,
  });
  return tokenResponse(issued, true);
};
