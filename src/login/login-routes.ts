import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { FormParams } from '../http/form-body.js';
import { findPendingLogin, type PendingLogin } from './login-requests.js';
import { csrfToken, formTrusted, sameBrowser } from './browser-binding.js';
import { renderLoginForm } from './login-page.js';
import { messagePage, originOf, sendPage } from './html.js';
import { applyRetryAfter, isRefusal, localLogin } from './local-login.js';
import { completeSignIn } from './complete-sign-in.js';
import { startUpstream } from './upstream-login.js';

/** Form fields are short; anything longer is not a username, password or code. */
const MAX_FIELD = 1024;

/** The posted value of a field, trimmed to nothing when absent, repeated or too long. */
export function field(form: FormParams, name: string): string | undefined {
  const all = form.getAll(name);
  if (all.length !== 1 || all[0]!.length > MAX_FIELD) return undefined;
  return all[0];
}

/** Origins a post of the login form may lead to: the client's redirect URI and the upstream provider. */
export function formTargets(ctx: ServerContext, pending: PendingLogin): string[] {
  const out: string[] = [];
  if (pending.kind === 'authorize') {
    const o = originOf(pending.request.redirectUri);
    if (o) out.push(o);
  }
  const up = ctx.policy.current.login.upstream;
  if (up) {
    for (const u of [up.issuer, up.authorizationEndpoint]) {
      const o = u ? originOf(u) : null;
      if (o) out.push(o);
    }
  }
  return out;
}

/** Renders the login form of a sign-in in progress. */
export function sendLoginForm(
  ctx: ServerContext,
  reply: FastifyReply,
  pending: PendingLogin & { kind: 'authorize' },
  browser: string,
  opts: { status?: number; error?: string | null; username?: string } = {},
): FastifyReply {
  const login = ctx.policy.current.login;
  const html = renderLoginForm({
    requestId: pending.id,
    csrf: csrfToken(browser, pending.id),
    action: '/login',
    heading: 'Sign in to jitgate',
    intro: `to continue to ${pending.request.clientId}`,
    localUsers: login.localUsers,
    requireOtp: pending.requireMfa,
    username: opts.username ?? '',
    error: opts.error ?? null,
    upstreamName: login.upstream ? login.upstream.name : null,
  });
  return sendPage(reply, opts.status ?? 200, html, formTargets(ctx, pending));
}

const EXPIRED = 'This sign-in is unknown or has expired. Go back to the application and start again.';

/** `GET /login` and `POST /login`: the page and its form post. */
export function registerLoginRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/login', async (req, reply) => {
    const id = new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1 || req.url.length)).get('request') ?? '';
    const pending = await findPendingLogin(ctx, id);
    if (!pending || pending.kind !== 'authorize') return sendPage(reply, 400, messagePage('Sign-in expired', EXPIRED));
    const browser = sameBrowser(ctx, req, pending);
    if (browser === null) return sendPage(reply, 403, messagePage('Sign-in refused', 'This sign-in was started in another browser.'));
    return sendLoginForm(ctx, reply, pending, browser);
  });

  app.post('/login', async (req: FastifyRequest, reply) => {
    const form = req.body as FormParams;
    const pending = await findPendingLogin(ctx, field(form, 'request') ?? '');
    if (!pending || pending.kind !== 'authorize') return sendPage(reply, 400, messagePage('Sign-in expired', EXPIRED));
    if (!formTrusted(ctx, req, pending, field(form, 'csrf'))) {
      return sendPage(reply, 403, messagePage('Sign-in refused', 'The form could not be verified. Reload the sign-in page and try again.'));
    }
    const browser = sameBrowser(ctx, req, pending)!;
    const login = ctx.policy.current.login;
    const action = field(form, 'action') ?? 'password';
    if (action === 'upstream' && login.upstream) return startUpstream(ctx, reply, pending, login.upstream);
    if (action !== 'password' || !login.localUsers) {
      return sendLoginForm(ctx, reply, pending, browser, { status: 400, error: 'Choose a way to sign in.' });
    }
    const username = field(form, 'username') ?? '';
    const result = await localLogin(
      ctx,
      req,
      { username, password: field(form, 'password') ?? '', otp: field(form, 'otp') || undefined },
      pending.requireMfa,
    );
    if (isRefusal(result)) {
      applyRetryAfter(reply, result);
      return sendLoginForm(ctx, reply, pending, browser, { status: result.status, error: result.message, username });
    }
    return completeSignIn(ctx, req, reply, pending, result, { kind: 'password' });
  });
}
