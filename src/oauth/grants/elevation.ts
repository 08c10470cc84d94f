import type { ServerContext } from '../../http/context.js';
import type { AuthenticatedClient } from '../client-auth.js';
import type { FormParams } from '../../http/form-body.js';
import { single } from '../../http/form-body.js';
import { InvalidGrant, InvalidRequest, InvalidScope, InvalidTarget } from '../errors.js';
import { activeToken } from '../token-status.js';
import { parseScopeParam } from '../../util/scope-string.js';
import { baselineScopes } from '../../access/entitlements.js';
import { eligibleScopes } from '../../access/eligibility.js';
import { findLiveGrant } from '../../access/grant-rows.js';
import { grantCovers } from '../../access/grant-status.js';
import { grantRecordOf } from '../../access/stored-grant.js';
import { issueAccessToken } from '../issue-token.js';
import { tokenResponse, type TokenResponse } from '../token-response.js';
import { nowS } from '../../util/clock.js';

/**
 * RFC 8693 exchange of an active jitgate token for a short-lived token
 * carrying elevated scopes. Only a grant puts an elevated scope into a
 * token: the grant must be active now and cover every elevated scope asked
 * for; the token's audience is the grant's resource and it ends no later
 * than the grant. Never a refresh token.
 */
export async function elevate(
  ctx: ServerContext,
  { client }: AuthenticatedClient,
  params: FormParams,
  subjectToken: string,
): Promise<TokenResponse> {
  const subject = await activeToken(ctx, subjectToken);
  if (!subject) throw new InvalidGrant('subject_token is not an active jitgate token');
  const scopeParam = single(params, 'scope');
  if (scopeParam === undefined) throw new InvalidRequest('scope is required: name the elevated scopes to exchange for');
  const requested = parseScopeParam(scopeParam);
  if (requested === null || requested.length === 0) throw new InvalidRequest('scope must name at least one well-formed scope');

  const policy = ctx.policy.current;
  const principal = subject.sub;
  const now = nowS(ctx.clock);
  const unknown = requested.filter((s) => !policy.scopes.has(s));
  if (unknown.length) throw new InvalidScope(`unknown scope: ${unknown.join(' ')}`, { scopes: unknown });

  const resources = params.getAll('resource');
  if (resources.length > 1) throw new InvalidTarget('one resource per token: send a single resource parameter');
  const askedResource = resources[0];

  const baseline = baselineScopes(policy, principal);
  const elevated = requested.filter((s) => !baseline.has(s));
  const eligible = eligibleScopes(policy, principal, now).scopes;
  const covering = elevated.length
    ? await findLiveGrant(ctx.store.db, principal, now, (g) => {
        const rec = grantRecordOf(g);
        return (
          grantCovers(rec, now) &&
          (askedResource === undefined || askedResource === g.resource) &&
          elevated.every((s) => rec.scopes.includes(s) && eligible.has(s))
        );
      })
    : undefined;
  if (elevated.length && !covering) {
    const resourceHint = askedResource ? `, "resource": "${askedResource}"` : '';
    throw new InvalidScope(
      `no active grant covers ${elevated.join(' ')} for ${principal}; request it first: ` +
        `POST /api/v1/requests {"scopes": ${JSON.stringify(elevated)}${resourceHint}, "duration": "30m", "reason": "…"} ` +
        `or \`jitgate request ${elevated.join(' ')} --for 30m --reason "…"\``,
      { scopes: elevated, request: { scopes: elevated, ...(askedResource ? { resource: askedResource } : {}) } },
    );
  }

  const audience = covering ? covering.resource : (askedResource ?? ctx.config.issuer);
  const resource = policy.resources.get(audience);
  if (!covering && askedResource !== undefined && askedResource !== ctx.config.issuer && !resource) {
    throw new InvalidTarget(`unknown resource ${askedResource}`);
  }
  if (resource && audience !== ctx.config.issuer) {
    const rejected = requested.filter((s) => !resource.scopes.includes(s));
    if (rejected.length) throw new InvalidScope(`${audience} does not accept scope: ${rejected.join(' ')}`, { scopes: rejected });
    if (client.environment && resource.environment && client.environment !== resource.environment) {
      throw new InvalidTarget(`client ${client.id} is bound to environment ${client.environment} and cannot get tokens for ${audience}`);
    }
  }

  let lifetimeS = ctx.config.tokenLifetimeS;
  for (const s of requested) {
    const max = policy.scopes.get(s)?.maxTtlS;
    if (max != null && max < lifetimeS) lifetimeS = max;
  }
  const issued = await issueAccessToken(ctx, {
    sub: principal,
    clientId: client.id,
    audience,
    scopes: [...requested].sort(),
    lifetimeS,
    grantId: covering?.id,
    notAfter: covering?.ends_at,
    acr: subject.acr,
    amr: subject.amr ? (JSON.parse(subject.amr) as string[]) : null,
    authTime: subject.auth_time,
    exchangedFrom: subject.jti,
  });
  return tokenResponse(issued, true);
}
