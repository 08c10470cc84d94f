import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { TestBrowser, type Page } from './browser.js';

export const insecure = { [oauth.allowInsecureRequests]: true } as const;
export const CLI: oauth.Client = { client_id: 'jitgate-cli' };
export const LOOPBACK_REDIRECT = 'http://127.0.0.1/callback';

/** One authorization request as a client starts it: its PKCE verifier, state and URL. */
export interface Started {
  verifier: string;
  state: string;
  redirectUri: string;
  url: URL;
}

export async function authorizationUrl(
  as: oauth.AuthorizationServer,
  params: Record<string, string> = {},
  redirectUri = LOOPBACK_REDIRECT,
): Promise<Started> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', CLI.client_id);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { verifier, state, redirectUri, url };
}

/** Follows /authorize to the login page and returns it (asserting each hop). */
export async function openLoginPage(browser: TestBrowser, started: Started): Promise<Page> {
  const first = await browser.get(started.url.href);
  assert.equal(first.status, 303, first.html);
  assert.match(first.location ?? '', /^\/login\?request=/);
  const page = await browser.get(first.location!);
  assert.equal(page.status, 200, page.html);
  return page;
}

/** Posts the login form of `page` with the given credentials. */
export function submitLogin(browser: TestBrowser, page: Page, creds: { username: string; password: string; otp?: string }): Promise<Page> {
  const f = page.fields();
  return browser.post('/login', { request: f.request!, csrf: f.csrf!, action: 'password', username: creds.username, password: creds.password, otp: creds.otp ?? '' });
}

/** Checks the authorization response with the independent client (state, iss) and redeems the code. */
export async function redeem(as: oauth.AuthorizationServer, started: Started, location: string): Promise<oauth.TokenEndpointResponse> {
  const params = oauth.validateAuthResponse(as, CLI, new URL(location), started.state);
  const res = await oauth.authorizationCodeGrantRequest(as, CLI, oauth.None(), params, started.redirectUri, started.verifier, insecure);
  return oauth.processAuthorizationCodeResponse(as, CLI, res);
}

/** The whole sign-in: authorize, log in on the page, redeem the code. */
export async function signIn(
  as: oauth.AuthorizationServer,
  browser: TestBrowser,
  creds: { username: string; password: string; otp?: string },
  params: Record<string, string> = {},
): Promise<oauth.TokenEndpointResponse> {
  const started = await authorizationUrl(as, params);
  const page = await openLoginPage(browser, started);
  const done = await submitLogin(browser, page, creds);
  assert.equal(done.status, 303, done.error ?? done.html);
  return redeem(as, started, done.location!);
}

export async function discover(issuerUrl: string): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(issuerUrl);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
}

export { TestBrowser };
