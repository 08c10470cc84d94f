/**
 * The few OAuth calls the cases make outside the measured load: getting
 * tokens, introspecting them, and checking a token's format. Messages never
 * carry a whole token or the client secret.
 */
import { basicAuthorization } from './fixture.js';
import type { RunningServer } from './types.js';

export const FORM = 'application/x-www-form-urlencoded';

/** An endpoint URL from the server's discovery document. */
export function endpoint(server: RunningServer, key: 'token_endpoint' | 'introspection_endpoint'): string {
  const value = server.metadata[key];
  if (typeof value !== 'string' || value === '') {
    throw new Error(`${server.id}: discovery document has no ${key}`);
  }
  return value;
}

/** POSTs a form with `authorization` (the bench client's client_secret_basic by default; null: none, a public client). */
async function postForm(url: string, body: string, authorization: string | null = basicAuthorization()): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': FORM, accept: 'application/json' };
  if (authorization !== null) headers.authorization = authorization;
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`POST ${url} answered ${res.status} with a body that is not JSON`);
  }
  return { status: res.status, json };
}

function errorOf(json: Record<string, unknown>): string {
  const parts = [json.error, json.error_description].filter((x) => typeof x === 'string');
  return parts.length ? parts.join(': ') : 'no error field';
}

/**
 * POSTs a token request and returns the access token; the client authenticates
 * with the bench client's client_secret_basic unless `authorization` says
 * otherwise (null: a public client, its client_id in `body`).
 */
export async function requestAccessToken(tokenUrl: string, body: string, authorization?: string | null): Promise<string> {
  const { status, json } = await postForm(tokenUrl, body, authorization);
  if (status !== 200 || typeof json.access_token !== 'string') {
    throw new Error(`token request to ${tokenUrl} failed with ${status} (${errorOf(json)})`);
  }
  return json.access_token;
}

/** `count` fresh access tokens, requested a few at a time. */
export async function requestAccessTokens(tokenUrl: string, body: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  while (tokens.length < count) {
    const batch = Math.min(8, count - tokens.length);
    tokens.push(...(await Promise.all(Array.from({ length: batch }, () => requestAccessToken(tokenUrl, body)))));
  }
  return tokens;
}

/** Introspects a token with client_secret_basic and returns the response object. */
export async function introspect(introspectionUrl: string, token: string): Promise<Record<string, unknown>> {
  const { status, json } = await postForm(introspectionUrl, new URLSearchParams({ token }).toString());
  if (status !== 200) throw new Error(`introspection at ${introspectionUrl} failed with ${status} (${errorOf(json)})`);
  return json;
}

/** The protected header of a compact JWS, or null when the value is not one. */
export function jwsHeader(token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[0]) return null;
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    return header && typeof header === 'object' ? (header as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Throws unless the token is a JWS signed with ES256: the token comparison is
 * fair only when both servers do the same signing work.
 */
export function assertEs256Jwt(serverId: string, token: string): void {
  const header = jwsHeader(token);
  if (!header) throw new Error(`${serverId} issued an access token that is not a JWT`);
  if (header.alg !== 'ES256') throw new Error(`${serverId} signed its access token with ${String(header.alg)}, not ES256`);
}
