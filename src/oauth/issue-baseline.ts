import type { ServerContext } from '../http/context.js';
import type { ClientDef } from '../policy/types.js';
import type { FormParams } from '../http/form-body.js';
import { single } from '../http/form-body.js';
import { baselineScopes } from '../access/entitlements.js';
import { shapeToken } from './token-scopes.js';
import { issueAccessToken, type IssuedToken } from './issue-token.js';

/** How the principal signed in, carried into its tokens. */
export interface AuthenticationFacts {
  acr?: string | null;
  amr?: string[] | null;
  authTime?: number | null;
}

/**
 * A baseline token for `principal` requested by `client`: the scopes and
 * audience the request's `scope` and `resource` ask for, within what the
 * principal holds without asking. Every grant that mints baseline tokens
 * goes through here.
 */
export function issueBaselineToken(
  ctx: ServerContext,
  client: ClientDef,
  principal: string,
  params: FormParams,
  auth: AuthenticationFacts = {},
): Promise<IssuedToken> {
  const policy = ctx.policy.current;
  const shape = shapeToken({
    policy,
    issuer: ctx.config.issuer,
    client,
    scopeParam: single(params, 'scope'),
    resourceParams: params.getAll('resource'),
    allowed: baselineScopes(policy, principal),
    defaultLifetimeS: ctx.config.tokenLifetimeS,
  });
  return issueAccessToken(ctx, {
    sub: principal,
    clientId: client.id,
    audience: shape.audience,
    scopes: shape.scopes,
    lifetimeS: shape.lifetimeS,
    ...auth,
  });
}
