import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../http/context.js';
import { cookieNames, readCookie, setCookie } from './cookies.js';
import { constantTimeEqual, hmac, randomToken, sha256 } from './secrets.js';
import type { PendingLogin } from './login-requests.js';

/** The pre-login cookie lives as long as a sign-in may take, with room to spare. */
const BROWSER_COOKIE_MAX_AGE_S = 3600;

/**
 * The browser's pre-login cookie value, set when it has none. A sign-in in
 * progress is bound to it (its hash is stored with the request), so a sign-in
 * started in one browser cannot be finished in another: an attacker cannot
 * plant their own login in a victim's browser (login CSRF, session fixation).
 */
export function browserValue(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply): string {
  const names = cookieNames(ctx.config.issuer);
  const existing = readCookie(req.headers.cookie, names.browser);
  if (existing) return existing;
  const value = randomToken();
  reply.header('set-cookie', setCookie(names.browser, value, { secure: names.secure, maxAgeS: BROWSER_COOKIE_MAX_AGE_S }));
  return value;
}

/**
 * The CSRF token of a sign-in's form: an HMAC of the request id keyed with
 * the pre-login cookie, which a cross-site page can neither read nor guess
 * (double submit, bound to the request).
 */
export function csrfToken(browser: string, pendingId: string): string {
  return hmac(browser, `login-form:${pendingId}`);
}

/** Whether this request comes from the browser the sign-in belongs to. */
export function sameBrowser(ctx: ServerContext, req: FastifyRequest, pending: PendingLogin): string | null {
  const value = readCookie(req.headers.cookie, cookieNames(ctx.config.issuer).browser);
  if (!value) return null;
  return constantTimeEqual(sha256(value), pending.browserHash) ? value : null;
}

/** Whether a posted form carries the right CSRF token for this browser and sign-in (constant time). */
export function formTrusted(ctx: ServerContext, req: FastifyRequest, pending: PendingLogin, posted: string | undefined): boolean {
  const browser = sameBrowser(ctx, req, pending);
  if (browser === null || posted === undefined) return false;
  return constantTimeEqual(posted, csrfToken(browser, pending.id));
}
