import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { FormParams } from '../http/form-body.js';
import { authenticateClient, type AuthenticatedClient, type ClientAuthDeps } from './client-auth.js';
import { recordAuthFailure } from '../audit/auth-failures.js';

type StaticDeps = Omit<ClientAuthDeps, 'policy' | 'nowMs'>;

/** What never changes for a server: built once, not on every token request. */
const staticDeps = new WeakMap<ServerContext, StaticDeps>();

function staticDepsOf(ctx: ServerContext): StaticDeps {
  let deps = staticDeps.get(ctx);
  if (deps === undefined) {
    const iss = ctx.config.issuer;
    deps = {
      store: ctx.store,
      limits: ctx.authFailures,
      issuer: iss,
      // The audiences a client assertion may carry: the issuer or any endpoint it authenticates at.
      assertionAudiences: [iss, `${iss}/token`, `${iss}/introspect`, `${iss}/revoke`],
      onFailure: (failure) => recordAuthFailure(ctx, failure),
    };
    staticDeps.set(ctx, deps);
  }
  return deps;
}

/** Client authentication's dependencies: the policy in force and the time now, with the server's fixed parts. */
export function clientAuthDeps(ctx: ServerContext): ClientAuthDeps {
  const deps = staticDepsOf(ctx);
  return {
    policy: ctx.policy.current,
    nowMs: ctx.clock.nowMs(),
    store: deps.store,
    limits: deps.limits,
    issuer: deps.issuer,
    assertionAudiences: deps.assertionAudiences,
    onFailure: deps.onFailure,
  };
}

/** The client of a form-encoded OAuth request (token, introspection, revocation), authenticated. */
export function authenticateFormClient(ctx: ServerContext, req: FastifyRequest): Promise<AuthenticatedClient> {
  return authenticateClient({ authorization: req.headers.authorization, params: req.body as FormParams, ip: req.ip }, clientAuthDeps(ctx));
}
