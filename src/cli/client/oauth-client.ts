/**
 * The OAuth endpoints the CLI uses: at `/token` the authorization code
 * (browser login), device code (RFC 8628) and refresh token grants and token
 * exchange (RFC 8693, ID token login and elevated tokens); the device
 * authorization endpoint; revocation (RFC 7009) at `/revoke` for logging
 * out. The CLI is a public client: it authenticates with its `client_id`
 * alone, and speaks plain fetch.
 */
import { exchange } from './http.js';
import { CliFailure } from './failure.js';
import { failureFromAnswer, isOAuthError, oauthErrorLines, type OAuthErrorBody } from './problem.js';
import type { TokenResponse } from './types.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

/** The client the CLI is registered as in the policy (`clients.jitgate-cli`). */
export const DEFAULT_CLIENT_ID = 'jitgate-cli';

/** The token endpoint refused; `error` is its RFC 6749 body, for callers that explain some errors better. */
export class TokenEndpointFailure extends CliFailure {
  constructor(
    readonly error: OAuthErrorBody,
    lines: string[],
  ) {
    super(`oauth_${error.error}`, lines);
  }
}

async function postForm(fetchFn: typeof fetch, server: string, path: string, form: Record<string, string | undefined>) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v !== undefined) body.set(k, v);
  return exchange(fetchFn, server, `${server}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body,
  });
}

/** POSTs a token request; the parsed success or a failure saying why not. */
export async function requestToken(fetchFn: typeof fetch, server: string, form: Record<string, string | undefined>): Promise<TokenResponse> {
  const answer = await postForm(fetchFn, server, '/token', form);
  let body: unknown = null;
  try {
    body = answer.text ? JSON.parse(answer.text) : null;
  } catch {
    // Not JSON: reported below with the status.
  }
  if (answer.status === 200 && body && typeof (body as TokenResponse).access_token === 'string') return body as TokenResponse;
  if (isOAuthError(body) && !answer.headers.get('www-authenticate')?.toLowerCase().includes('insufficient_user_authentication')) {
    throw new TokenEndpointFailure(body, oauthErrorLines(body));
  }
  throw failureFromAnswer(server, answer);
}

/** Exchanges an identity provider's ID token for a baseline jitgate token. */
export function exchangeIdToken(fetchFn: typeof fetch, server: string, clientId: string, idToken: string): Promise<TokenResponse> {
  return requestToken(fetchFn, server, {
    grant_type: TOKEN_EXCHANGE,
    client_id: clientId,
    subject_token: idToken,
    subject_token_type: ID_TOKEN_TYPE,
  });
}

/** Exchanges the saved jitgate token for one carrying `scopes`, which a live grant must cover. */
export function exchangeForScopes(
  fetchFn: typeof fetch,
  server: string,
  clientId: string,
  subjectToken: string,
  scopes: readonly string[],
  resource: string | undefined,
): Promise<TokenResponse> {
  return requestToken(fetchFn, server, {
    grant_type: TOKEN_EXCHANGE,
    client_id: clientId,
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    scope: scopes.join(' '),
    resource,
  });
}

/** Revokes a token at `/revoke` (RFC 7009): unknown and expired tokens are answered 200 too. */
export async function revokeToken(
  fetchFn: typeof fetch,
  server: string,
  clientId: string,
  token: string,
  hint: 'access_token' | 'refresh_token' = 'access_token',
): Promise<void> {
  const answer = await postForm(fetchFn, server, '/revoke', { token, token_type_hint: hint, client_id: clientId });
  if (answer.status !== 200) throw failureFromAnswer(server, answer);
}

/** A new access token (and the rotated refresh token) for a saved refresh token. */
export function refreshAccessToken(fetchFn: typeof fetch, server: string, clientId: string, refreshToken: string): Promise<TokenResponse> {
  return requestToken(fetchFn, server, { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken });
}

/** Redeems an authorization code of the browser login (PKCE). */
export function exchangeCode(
  fetchFn: typeof fetch,
  server: string,
  clientId: string,
  code: string,
  redirectUri: string,
  codeVerifier: string,
): Promise<TokenResponse> {
  return requestToken(fetchFn, server, {
    grant_type: 'authorization_code',
    client_id: clientId,
    code,
    redirect_uri: redirectUri,
    code_verifier: codeVerifier,
  });
}

/** RFC 8628 §3.2 answer. */
export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

/** Asks the server for a device code and the user code the person types (RFC 8628 §3.1). */
export async function startDeviceAuthorization(fetchFn: typeof fetch, server: string, clientId: string): Promise<DeviceAuthorization> {
  const answer = await postForm(fetchFn, server, '/device_authorization', { client_id: clientId });
  let body: unknown = null;
  try {
    body = answer.text ? JSON.parse(answer.text) : null;
  } catch {
    // Reported below.
  }
  const d = body as Partial<DeviceAuthorization> | null;
  if (answer.status === 200 && d && typeof d.device_code === 'string' && typeof d.user_code === 'string' && typeof d.verification_uri === 'string' && typeof d.expires_in === 'number') {
    return d as DeviceAuthorization;
  }
  if (isOAuthError(body)) throw new TokenEndpointFailure(body, oauthErrorLines(body));
  throw failureFromAnswer(server, answer);
}

/** The authorization server's RFC 8414 metadata, as far as the browser login needs it. */
export interface ServerMetadata {
  issuer: string;
  authorization_endpoint?: string;
}

export async function fetchMetadata(fetchFn: typeof fetch, server: string): Promise<ServerMetadata> {
  const answer = await exchange(fetchFn, server, `${server}/.well-known/oauth-authorization-server`, { headers: { accept: 'application/json' } });
  if (answer.status !== 200) throw failureFromAnswer(server, answer);
  let body: Partial<ServerMetadata> | null = null;
  try {
    body = JSON.parse(answer.text) as Partial<ServerMetadata>;
  } catch {
    // Refused below.
  }
  if (!body || typeof body.issuer !== 'string') {
    throw new CliFailure('server_error', `the server at ${server} published no authorization server metadata`);
  }
  return body as ServerMetadata;
}
