import type { FastifyRequest } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { FormParams } from '../http/form-body.js';
import { authenticateClient, type AuthenticatedClient, type ClientAuthDeps } from './client-auth.js';
import { recordAuthFailure } from '../audit/auth-failures.js';

/** The audiences a client assertion may carry: the issuer or any endpoint it authenticates at. */
export function clientAuthDeps(ctx: ServerContext): ClientAuthDeps {
  const iss = ctx.config.issuer;
  return {
    policy: ctx.policy.current,
    store: ctx.store,
    limits: ctx.authFailures,
    issuer: iss,
    assertionAudiences: [iss, `${iss}/token`, `${iss}/introspect`, `${iss}/revoke`],
    nowMs: ctx.clock.nowMs(),
    onFailure: (failure) => recordAuthFailure(ctx, failure),
  };
}

/** The client of a form-encoded OAuth request (token, introspection, revocation), authenticated. */
export function authenticateFormClient(ctx: ServerContext, req: FastifyRequest): Promise<AuthenticatedClient> {
  return authenticateClient(
    { authorization: req.headers.authorization, params: req.body as FormParams, ip: req.ip },
    clientAuthDeps(ctx),
  );
}
