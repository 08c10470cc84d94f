import type { ServerContext } from '../http/context.js';
import type { AuthenticatedPerson } from '../identity/person.js';
import { principalKnown, baselineScopes } from '../access/entitlements.js';
import { shapeToken } from '../oauth/token-scopes.js';
import { OAuthError } from '../oauth/errors.js';
import { authorizationResponseUrl, type AuthorizeRequest } from './authorize-request.js';
import { issueAuthorizationCode } from './authorization-codes.js';

/**
 * The redirect that ends an authorization request for a signed-in person:
 * a code, or an error the client can act on (RFC 6749 §4.1.2.1). The scope
 * and resource are checked against what the person may hold now, so a
 * request for more than the baseline fails here rather than at the token
 * endpoint after a sign-in.
 */
export async function finishAuthorize(ctx: ServerContext, request: AuthorizeRequest, person: AuthenticatedPerson): Promise<string> {
  const policy = ctx.policy.current;
  const client = policy.clients.get(request.clientId);
  const error = (code: string, description: string) =>
    authorizationResponseUrl(request.redirectUri, ctx.config.issuer, { error: code, error_description: description, state: request.state });
  if (!client) return error('unauthorized_client', 'the client is no longer in the policy');
  if (!principalKnown(policy, person.principal)) return error('access_denied', `${person.principal} is not a member of any group in the policy`);
  try {
    shapeToken({
      policy,
      issuer: ctx.config.issuer,
      client,
      scopeParam: request.scope ?? undefined,
      resourceParams: request.resource === null ? [] : [request.resource],
      allowed: baselineScopes(policy, person.principal),
      defaultLifetimeS: ctx.config.tokenLifetimeS,
    });
  } catch (err) {
    if (err instanceof OAuthError) return error(err.error, err.message);
    throw err;
  }
  const code = await issueAuthorizationCode(ctx, request, person);
  return authorizationResponseUrl(request.redirectUri, ctx.config.issuer, { code, state: request.state });
}
