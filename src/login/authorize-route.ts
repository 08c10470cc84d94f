import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../http/context.js';
import { nowS } from '../util/clock.js';
import { authorizationResponseUrl, parseAuthorizeRequest } from './authorize-request.js';
import { cookieNames, readCookie } from './cookies.js';
import { findSession } from './sessions.js';
import { sessionFits } from './session-fits.js';
import { finishAuthorize } from './finish-authorize.js';
import { browserValue } from './browser-binding.js';
import { createPendingLogin } from './login-requests.js';
import { refuseLoginStart } from './start-limit.js';
import { messagePage, sendPage } from './html.js';

/**
 * `GET /authorize` (RFC 6749 §4.1.1, OAuth 2.1, RFC 9207): with a session that
 * satisfies the request the code comes back at once; otherwise the request is
 * kept server-side and the browser goes to the login page. Every client in
 * the policy is first-party, so there is no consent screen.
 */
export function registerAuthorize(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/authorize', async (req, reply) => {
    const query = new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1 || req.url.length));
    const outcome = parseAuthorizeRequest(query, ctx.policy.current);
    if (outcome.kind === 'page') return sendPage(reply, 400, messagePage('This sign-in link is not valid', outcome.message));
    if (outcome.kind === 'error') {
      return reply.header('cache-control', 'no-store').redirect(
        authorizationResponseUrl(outcome.redirectUri, ctx.config.issuer, {
          error: outcome.error,
          error_description: outcome.description,
          state: outcome.state,
        }),
        303,
      );
    }
    const request = outcome.request;
    const session = await findSession(ctx, readCookie(req.headers.cookie, cookieNames(ctx.config.issuer).session));
    if (sessionFits(ctx.policy.current, session, request, nowS(ctx.clock))) {
      return reply.header('cache-control', 'no-store').redirect(await finishAuthorize(ctx, request, session!), 303);
    }
    if (request.prompt === 'none') {
      return reply.header('cache-control', 'no-store').redirect(
        authorizationResponseUrl(request.redirectUri, ctx.config.issuer, {
          error: 'login_required',
          error_description: 'the person must sign in and prompt=none forbids showing the login page',
          state: request.state,
        }),
        303,
      );
    }
    if (refuseLoginStart(ctx, req, reply)) return reply;
    const browser = browserValue(ctx, req, reply);
    const id = await createPendingLogin(ctx, 'authorize', request, request.requireMfa, browser);
    return reply.header('cache-control', 'no-store').redirect(`/login?request=${encodeURIComponent(id)}`, 303);
  });
}
