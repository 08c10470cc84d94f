import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { AuthenticatedPerson } from '../identity/person.js';
import type { UpstreamLogin } from '../policy/types.js';
import { MFA_ACR } from '../identity/mfa.js';
import { OAuthError } from '../oauth/errors.js';
import { principalKnown } from '../access/entitlements.js';
import { JitgateError } from '../util/errors.js';
import { nowS } from '../util/clock.js';
import { randomToken } from './secrets.js';
import { findPendingByUpstreamState, recordUpstreamLeg, type PendingLogin } from './login-requests.js';
import { redeemUpstreamCode, upstreamEndpoints } from './upstream-provider.js';
import { sameBrowser } from './browser-binding.js';
import { messagePage, sendPage } from './html.js';
import { signInHasMfa } from './session-fits.js';
import { completeSignIn } from './complete-sign-in.js';

/** Where the upstream provider sends the person back; register it there. */
export function upstreamRedirectUri(ctx: ServerContext): string {
  return `${ctx.config.issuer}/login/callback`;
}

/**
 * Sends the person to the upstream provider with jitgate's own PKCE, state
 * and nonce (OIDC Core §3.1.2.1), remembered with the sign-in in progress.
 */
export async function startUpstream(ctx: ServerContext, reply: FastifyReply, pending: PendingLogin, cfg: UpstreamLogin): Promise<FastifyReply> {
  let endpoints;
  try {
    endpoints = await upstreamEndpoints(cfg, ctx.clock.nowMs());
  } catch (err) {
    if (err instanceof JitgateError) return sendPage(reply, 502, messagePage('Sign-in unavailable', err.message));
    throw err;
  }
  const state = randomToken();
  const nonce = randomToken();
  const verifier = randomToken();
  await recordUpstreamLeg(ctx, pending.id, state, { nonce, verifier });
  const url = new URL(endpoints.authorizationEndpoint);
  const q = url.searchParams;
  q.set('response_type', 'code');
  q.set('client_id', cfg.clientId);
  q.set('redirect_uri', upstreamRedirectUri(ctx));
  q.set('scope', cfg.scopes.join(' '));
  q.set('state', state);
  q.set('nonce', nonce);
  q.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
  q.set('code_challenge_method', 'S256');
  if (pending.kind === 'authorize') {
    const r = pending.request;
    // The provider is asked for what the client asked of jitgate; what comes back is checked anyway.
    if (r.prompt === 'login') q.set('prompt', 'login');
    if (r.maxAgeS !== null) q.set('max_age', String(r.maxAgeS));
  }
  return reply.header('cache-control', 'no-store').redirect(url.href, 303);
}

/** `GET /login/callback`: the provider's answer, checked and turned into a sign-in. */
export function registerUpstreamCallback(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/login/callback', async (req, reply) => {
    const q = new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1 || req.url.length));
    const cfg = ctx.policy.current.login.upstream;
    const state = q.get('state');
    if (!cfg) return sendPage(reply, 404, messagePage('Sign-in unavailable', 'No identity provider is configured for sign-in.'));
    const pending = state ? await findPendingByUpstreamState(ctx, state) : null;
    if (!pending) {
      return sendPage(reply, 400, messagePage('Sign-in expired', 'This sign-in is unknown or has expired. Go back to the application and start again.'));
    }
    if (sameBrowser(ctx, req, pending) === null) {
      return sendPage(reply, 403, messagePage('Sign-in refused', 'This sign-in was started in another browser.'));
    }
    const iss = q.get('iss');
    // RFC 9207: an answer naming another issuer is a mix-up attack or a misconfiguration.
    if (iss !== null && iss !== cfg.issuer) return sendPage(reply, 400, messagePage('Sign-in refused', 'The answer came from another identity provider.'));
    const upstreamError = q.get('error');
    if (upstreamError !== null) {
      return sendPage(reply, 401, messagePage('Sign-in refused', `${cfg.name} did not sign you in (${upstreamError}).`));
    }
    const code = q.get('code');
    if (!code || !pending.upstream) return sendPage(reply, 400, messagePage('Sign-in refused', 'The answer of the identity provider has no code.'));

    let person: AuthenticatedPerson;
    try {
      person = await verifiedPerson(ctx, cfg, pending, code);
    } catch (err) {
      if (err instanceof JitgateError) {
        ctx.log.warn({ issuer: cfg.issuer, reason: err.message }, 'upstream sign-in refused');
        return sendPage(reply, 401, messagePage('Sign-in refused', err.message));
      }
      throw err;
    }
    return completeSignIn(ctx, req, reply, pending, person, { kind: 'upstream', issuer: cfg.issuer });
  });
}

/** Redeems the code and verifies the ID token: signature (the provider's JWKS), iss, aud = client_id, exp, nonce. */
async function verifiedPerson(ctx: ServerContext, cfg: UpstreamLogin, pending: PendingLogin, code: string): Promise<AuthenticatedPerson> {
  const endpoints = await upstreamEndpoints(cfg, ctx.clock.nowMs());
  const secret = cfg.clientSecretEnv ? process.env[cfg.clientSecretEnv] : null;
  if (secret === undefined || secret === '') {
    throw new JitgateError('upstream_misconfigured', `the client secret of ${cfg.issuer} is not set (${cfg.clientSecretEnv})`);
  }
  const idToken = await redeemUpstreamCode(cfg, endpoints, {
    code,
    redirectUri: upstreamRedirectUri(ctx),
    verifier: pending.upstream!.verifier,
    secret,
  });
  let identity;
  try {
    identity = await ctx.federation.verify(
      { issuer: cfg.issuer, jwksUri: endpoints.jwksUri, audience: cfg.clientId, subject: cfg.subject, mfaAmr: cfg.mfaAmr },
      idToken,
      ctx.clock.nowMs(),
    );
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    throw new JitgateError('upstream_refused', `The ID token of ${cfg.name} was refused: ${err.message.replace(/^subject_token rejected: /, '')}.`);
  }
  if (identity.claims.nonce !== pending.upstream!.nonce) throw new JitgateError('upstream_refused', 'the ID token does not carry the nonce of this sign-in');
  const policy = ctx.policy.current;
  if (!principalKnown(policy, identity.principal)) {
    throw new JitgateError('upstream_refused', `${identity.principal} is not a member of any group in the policy`);
  }
  const now = nowS(ctx.clock);
  const amr = identity.amr ?? [];
  const base: AuthenticatedPerson = { principal: identity.principal, amr, acr: identity.acr, authTime: identity.authTime ?? now };
  const mfa = signInHasMfa(policy, base);
  const person = { ...base, acr: mfa ? MFA_ACR : identity.acr };
  if (pending.requireMfa && !mfa) throw new JitgateError('mfa_missing', `Your sign-in at ${cfg.name} did not include MFA, which this step needs.`);
  if (pending.kind === 'authorize' && pending.request.maxAgeS !== null && now - person.authTime > pending.request.maxAgeS) {
    throw new JitgateError('auth_too_old', `Your sign-in at ${cfg.name} is older than this step allows; sign in there again.`);
  }
  return person;
}
