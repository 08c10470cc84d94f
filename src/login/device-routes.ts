import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { FormParams } from '../http/form-body.js';
import { findDeviceAuthorization, formatUserCode, normalizeUserCode } from '../oauth/device-codes.js';
import { refuseLoginStart } from './start-limit.js';
import { createPendingLogin, findPendingLogin, updatePendingRequest, type PendingLogin } from './login-requests.js';
import { browserValue, csrfToken, formTrusted, sameBrowser } from './browser-binding.js';
import { cookieNames, readCookie } from './cookies.js';
import { findSession, type LoginSession } from './sessions.js';
import { renderDeviceForm } from './device-page.js';
import { messagePage, sendPage } from './html.js';
import { applyRetryAfter, isRefusal, localLogin } from './local-login.js';
import { completeSignIn } from './complete-sign-in.js';
import { startUpstream } from './upstream-login.js';
import { approveDevice, denyDevice } from './device-approval.js';
import { field, formTargets } from './login-routes.js';

/**
 * `GET /device` and `POST /device`: the RFC 8628 verification page. The
 * person enters the user code (prefilled from `verification_uri_complete`),
 * signs in unless the browser has a session, and approves or denies.
 */
export function registerDeviceRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/device', async (req, reply) => {
    const q = new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1 || req.url.length));
    const typed = q.get('user_code') ?? '';
    const normalized = normalizeUserCode(typed);
    const userCode = normalized ? formatUserCode(normalized) : typed.slice(0, 16);
    if (refuseLoginStart(ctx, req, reply)) return reply;
    const browser = browserValue(ctx, req, reply);
    const id = await createPendingLogin(ctx, 'device', { userCode: null }, false, browser);
    const pending = (await findPendingLogin(ctx, id))!;
    return sendDeviceForm(ctx, req, reply, pending, browser, { userCode });
  });

  app.post('/device', async (req, reply) => {
    const form = req.body as FormParams;
    const pending = await findPendingLogin(ctx, field(form, 'request') ?? '');
    if (!pending || pending.kind !== 'device') {
      return sendPage(reply, 400, messagePage('Page expired', 'This page has expired. Open the verification address again.'));
    }
    if (!formTrusted(ctx, req, pending, field(form, 'csrf'))) {
      return sendPage(reply, 403, messagePage('Request refused', 'The form could not be verified. Reload the page and try again.'));
    }
    const browser = sameBrowser(ctx, req, pending)!;
    const typed = field(form, 'user_code') ?? '';
    const username = field(form, 'username') ?? '';
    const again = (status: number, error: string) => sendDeviceForm(ctx, req, reply, pending, browser, { userCode: typed.slice(0, 16), username, status, error });

    const code = normalizeUserCode(typed);
    const found = code ? await findDeviceAuthorization(ctx, code, { from: req.ip }) : null;
    if (!code || !found) return again(400, 'That code is unknown or has expired. Check the code on your device.');
    const action = field(form, 'action') ?? 'approve';
    if (action === 'deny') return denyDevice(ctx, req, reply, code);

    const login = ctx.policy.current.login;
    if (action === 'upstream' && login.upstream) {
      await updatePendingRequest(ctx, pending.id, { userCode: code });
      return startUpstream(ctx, reply, pending, login.upstream);
    }
    if (action !== 'approve') return again(400, 'Choose to approve or deny.');
    const session = await currentSession(ctx, req);
    if (session) return approveDevice(ctx, req, reply, code, session);
    if (!login.localUsers) return again(400, 'Sign in first.');
    const result = await localLogin(ctx, req, { username, password: field(form, 'password') ?? '', otp: field(form, 'otp') || undefined }, false);
    if (isRefusal(result)) {
      applyRetryAfter(reply, result);
      return again(result.status, result.message);
    }
    return completeSignIn(ctx, req, reply, { ...pending, request: { userCode: code } }, result, { kind: 'password' });
  });
}

async function currentSession(ctx: ServerContext, req: FastifyRequest): Promise<LoginSession | null> {
  return findSession(ctx, readCookie(req.headers.cookie, cookieNames(ctx.config.issuer).session));
}

async function sendDeviceForm(
  ctx: ServerContext,
  req: FastifyRequest,
  reply: FastifyReply,
  pending: PendingLogin,
  browser: string,
  opts: { userCode: string; username?: string; status?: number; error?: string },
): Promise<FastifyReply> {
  const session = await currentSession(ctx, req);
  const login = ctx.policy.current.login;
  const html = renderDeviceForm({
    requestId: pending.id,
    csrf: csrfToken(browser, pending.id),
    userCode: opts.userCode,
    signedInAs: session?.principal ?? null,
    localUsers: login.localUsers,
    upstreamName: login.upstream?.name ?? null,
    error: opts.error ?? null,
    username: opts.username ?? '',
  });
  return sendPage(reply, opts.status ?? 200, html, formTargets(ctx, pending));
}
