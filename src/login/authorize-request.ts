import type { Policy } from '../policy/types.js';
import { MFA_ACR } from '../identity/mfa.js';
import { parseScopeParam } from '../util/scope-string.js';
import { redirectUriAllowed } from './redirect-uri.js';
import { validChallenge } from './pkce.js';

/** A validated authorization request (RFC 6749 §4.1.1 with PKCE), waiting for a signed-in person. */
export interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  state: string | null;
  codeChallenge: string;
  scope: string | null;
  resource: string | null;
  /** `prompt=login` asks for a fresh sign-in; `none` forbids showing the page. */
  prompt: 'login' | 'none' | null;
  /** OIDC `max_age`: the sign-in must be at most this old, seconds. */
  maxAgeS: number | null;
  /** `acr_values` named the MFA class: the sign-in must include MFA. */
  requireMfa: boolean;
}

/** Where an authorization request ended: a page (no trusted redirect URI yet), an error redirect, or accepted. */
export type AuthorizeOutcome =
  | { kind: 'page'; message: string }
  | { kind: 'error'; redirectUri: string; state: string | null; error: string; description: string }
  | { kind: 'ok'; request: AuthorizeRequest };

const MAX_STATE = 1024;

/**
 * Validates the query of `GET /authorize` (pure). Until the client and its
 * redirect URI are known to belong together, problems are shown on a page:
 * redirecting to an unvalidated URI would make the server an open redirector.
 */
export function parseAuthorizeRequest(query: URLSearchParams, policy: Policy): AuthorizeOutcome {
  const one = (name: string): string | undefined | null => {
    const all = query.getAll(name);
    if (all.length > 1) return null;
    return all[0] === '' ? undefined : all[0];
  };
  const clientId = one('client_id');
  if (clientId === null) return { kind: 'page', message: 'The parameter client_id was sent more than once.' };
  if (clientId === undefined) return { kind: 'page', message: 'The request does not name a client (client_id is missing).' };
  const client = policy.clients.get(clientId);
  if (!client) return { kind: 'page', message: 'The application that sent you here is not known to this server.' };
  if (client.redirectUris.length === 0) {
    return { kind: 'page', message: 'The application that sent you here has no registered redirect URI, so it cannot sign people in.' };
  }
  let redirectUri = one('redirect_uri');
  if (redirectUri === null) return { kind: 'page', message: 'The parameter redirect_uri was sent more than once.' };
  if (redirectUri === undefined) {
    if (client.redirectUris.length !== 1) {
      return { kind: 'page', message: 'The request does not say where to return (redirect_uri is missing).' };
    }
    redirectUri = client.redirectUris[0]!;
  } else if (!redirectUriAllowed(client.redirectUris, redirectUri)) {
    return { kind: 'page', message: 'The redirect URI of the request is not registered for this application.' };
  }

  const stateRaw = query.getAll('state');
  const state = stateRaw.length === 1 && stateRaw[0] !== '' ? stateRaw[0]! : null;
  const fail = (error: string, description: string): AuthorizeOutcome => ({ kind: 'error', redirectUri: redirectUri!, state, error, description });
  if (stateRaw.length > 1) return fail('invalid_request', 'parameter state must not be repeated');
  if (state !== null && state.length > MAX_STATE) return fail('invalid_request', `state is longer than ${MAX_STATE} characters`);

  for (const name of ['response_type', 'code_challenge', 'code_challenge_method', 'scope', 'resource', 'prompt', 'max_age', 'acr_values', 'response_mode']) {
    if (one(name) === null) return fail('invalid_request', `parameter ${name} must not be repeated`);
  }
  const responseType = one('response_type');
  if (responseType === undefined) return fail('invalid_request', 'response_type is required');
  if (responseType !== 'code') return fail('unsupported_response_type', 'only response_type=code is supported');
  const responseMode = one('response_mode');
  if (responseMode !== undefined && responseMode !== 'query') return fail('invalid_request', 'only response_mode=query is supported');

  const challenge = one('code_challenge');
  const method = one('code_challenge_method');
  if (challenge === undefined) return fail('invalid_request', 'PKCE is required: send code_challenge and code_challenge_method=S256');
  if (method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256 (plain is not accepted)');
  if (!validChallenge(challenge!)) return fail('invalid_request', 'code_challenge must be the base64url SHA-256 of the verifier (43 characters)');

  const scope = one('scope') ?? null;
  if (scope !== null) {
    const scopes = parseScopeParam(scope);
    if (scopes === null) return fail('invalid_scope', 'scope contains a malformed scope token');
    const unknown = scopes.filter((s) => !policy.scopes.has(s));
    if (unknown.length) return fail('invalid_scope', `unknown scope: ${unknown.join(' ')}`);
  }
  const resource = one('resource') ?? null;

  const promptRaw = one('prompt');
  let prompt: AuthorizeRequest['prompt'] = null;
  for (const p of (promptRaw ?? '').split(' ').filter(Boolean)) {
    // First-party clients only: there is no consent screen, so `consent` asks for nothing more.
    if (p === 'login' || p === 'none') {
      if (prompt !== null && prompt !== p) return fail('invalid_request', 'prompt=none cannot be combined with another value');
      prompt = p;
    } else if (p !== 'consent') {
      return fail('invalid_request', `prompt=${p} is not supported`);
    }
  }
  const maxAgeRaw = one('max_age');
  let maxAgeS: number | null = null;
  if (maxAgeRaw !== undefined) {
    if (!/^\d{1,9}$/.test(maxAgeRaw!)) return fail('invalid_request', 'max_age must be a non-negative number of seconds');
    maxAgeS = Number(maxAgeRaw);
  }
  // Other ACR values are voluntary (OIDC Core §3.1.2.1): only the MFA class changes what the page asks for.
  const requireMfa = (one('acr_values') ?? '').split(' ').includes(MFA_ACR);

  return {
    kind: 'ok',
    request: { clientId, redirectUri, state, codeChallenge: challenge!, scope, resource, prompt, maxAgeS, requireMfa },
  };
}

/** The redirect of an authorization response (RFC 6749 §4.1.2, RFC 9207 `iss`), parameters added to the URI's own query. */
export function authorizationResponseUrl(redirectUri: string, issuer: string, params: Record<string, string | null>): string {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.append(k, v);
  url.searchParams.append('iss', issuer);
  return url.href;
}
