import type { UpstreamLogin } from '../policy/types.js';
import { JitgateError } from '../util/errors.js';

/** The endpoints of the upstream provider, from the policy or its discovery document. */
export interface UpstreamEndpoints {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
}

const FETCH_TIMEOUT_MS = 5000;
/** Discovery documents change rarely; an hour keeps a provider's move from needing a restart. */
const CACHE_MS = 3600_000;
const cache = new Map<string, { at: number; endpoints: UpstreamEndpoints }>();

/**
 * The provider's endpoints: those the policy names, the rest from
 * `{issuer}/.well-known/openid-configuration` (OpenID Connect Discovery
 * §4), whose `issuer` must be the configured one (§4.3).
 */
export async function upstreamEndpoints(cfg: UpstreamLogin, nowMs: number): Promise<UpstreamEndpoints> {
  if (cfg.authorizationEndpoint && cfg.tokenEndpoint && cfg.jwksUri) {
    return { authorizationEndpoint: cfg.authorizationEndpoint, tokenEndpoint: cfg.tokenEndpoint, jwksUri: cfg.jwksUri };
  }
  const hit = cache.get(cfg.issuer);
  let doc: UpstreamEndpoints;
  if (hit && nowMs - hit.at < CACHE_MS) {
    doc = hit.endpoints;
  } else {
    doc = await discover(cfg.issuer);
    cache.set(cfg.issuer, { at: nowMs, endpoints: doc });
  }
  return {
    authorizationEndpoint: cfg.authorizationEndpoint ?? doc.authorizationEndpoint,
    tokenEndpoint: cfg.tokenEndpoint ?? doc.tokenEndpoint,
    jwksUri: cfg.jwksUri ?? doc.jwksUri,
  };
}

async function discover(issuer: string): Promise<UpstreamEndpoints> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let body: Record<string, unknown>;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error', headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = (await res.json()) as Record<string, unknown>;
  } catch (err) {
    throw new JitgateError('upstream_unavailable', `the discovery document of ${issuer} could not be read: ${(err as Error).message}`);
  }
  if (body.issuer !== issuer) throw new JitgateError('upstream_unavailable', `the discovery document of ${issuer} names another issuer`);
  const str = (k: string): string => {
    const v = body[k];
    if (typeof v !== 'string' || !/^https?:\/\//.test(v)) throw new JitgateError('upstream_unavailable', `the discovery document of ${issuer} lacks ${k}`);
    return v;
  };
  return { authorizationEndpoint: str('authorization_endpoint'), tokenEndpoint: str('token_endpoint'), jwksUri: str('jwks_uri') };
}

/**
 * Redeems the provider's code at its token endpoint (client_secret_basic when
 * the policy names a secret, else a public client with PKCE) and returns the
 * ID token.
 */
export async function redeemUpstreamCode(
  cfg: UpstreamLogin,
  endpoints: UpstreamEndpoints,
  input: { code: string; redirectUri: string; verifier: string; secret: string | null },
): Promise<string> {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: input.code,
    redirect_uri: input.redirectUri,
    code_verifier: input.verifier,
  });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (input.secret !== null) {
    const enc = (v: string) => encodeURIComponent(v);
    headers.authorization = `Basic ${Buffer.from(`${enc(cfg.clientId)}:${enc(input.secret)}`).toString('base64')}`;
  } else {
    body.set('client_id', cfg.clientId);
  }
  let res: Response;
  try {
    res = await fetch(endpoints.tokenEndpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
  } catch (err) {
    throw new JitgateError('upstream_unavailable', `the token endpoint of ${cfg.issuer} did not answer: ${(err as Error).message}`);
  }
  const json = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (!res.ok || !json) {
    const why = json && typeof json.error === 'string' ? json.error : `HTTP ${res.status}`;
    throw new JitgateError('upstream_refused', `${cfg.issuer} refused the code (${why})`);
  }
  if (typeof json.id_token !== 'string') throw new JitgateError('upstream_refused', `${cfg.issuer} returned no ID token`);
  return json.id_token;
}
