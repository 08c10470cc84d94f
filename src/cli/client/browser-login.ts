/**
 * `jitgate login --browser`: the authorization code flow with PKCE (S256)
 * for a native app (RFC 8252): the CLI listens on a loopback port, opens the
 * server's login page in the person's browser, and redeems the code the
 * browser brings back. `state` binds the answer to this login and `iss`
 * (RFC 9207) proves it comes from the server the CLI asked.
 */
import type { CliIo } from './cli-io.js';
import { CliFailure, EXIT } from './failure.js';
import { startLoopbackReceiver } from './loopback-receiver.js';
import { exchangeCode, fetchMetadata } from './oauth-client.js';
import { newState, pkcePair } from './pkce.js';
import { openBrowser } from './open-browser.js';
import { printable } from './terminal-text.js';
import type { TokenResponse } from './types.js';

/** How long the CLI waits for the person to finish in the browser. */
export const BROWSER_WAIT_MS = 5 * 60_000;

export interface BrowserLoginOptions {
  /** Opens the URL; false when it could not (the URL is printed either way). */
  open?: (url: string) => Promise<boolean>;
  /** RFC 9470 step-up: the `acr_values` to ask the login page for. */
  acrValues?: string;
  /** RFC 9470 step-up: the most seconds since the person last authenticated (0 forces a new sign-in). */
  maxAge?: number;
}

export async function browserLogin(io: CliIo, server: string, clientId: string, opts: BrowserLoginOptions = {}): Promise<TokenResponse> {
  const metadata = await fetchMetadata(io.fetch, server);
  if (!metadata.authorization_endpoint) {
    throw new CliFailure('browser_login_unavailable', [`${server} has no authorization endpoint`, '  use: jitgate login --device']);
  }
  const state = newState();
  const pkce = pkcePair();
  const receiver = await startLoopbackReceiver(state);
  const abort = new AbortController();
  const stopListening = io.onSignal('SIGINT', () => abort.abort());
  try {
    const url = new URL(metadata.authorization_endpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', clientId);
    url.searchParams.set('redirect_uri', receiver.redirectUri);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', pkce.challenge);
    url.searchParams.set('code_challenge_method', 'S256');
    if (opts.acrValues !== undefined) url.searchParams.set('acr_values', opts.acrValues);
    if (opts.maxAge !== undefined) url.searchParams.set('max_age', String(opts.maxAge));
    const opened = await (opts.open ?? ((u) => openBrowser(u, io.env)))(url.href);
    io.err(
      opened
        ? `Opened your browser to log in. If it did not open, visit:\n  ${url.href}\n`
        : `Open this address in a browser on this machine to log in:\n  ${url.href}\n`,
    );
    io.err('waiting for the browser (Ctrl-C to give up)…\n');
    const timeout = io.sleep(BROWSER_WAIT_MS, abort.signal).then(() => null);
    const answer = await Promise.race([receiver.result, timeout]).catch(() => {
      throw new CliFailure('interrupted', 'login interrupted; nothing was saved', EXIT.interrupted);
    });
    abort.abort();
    if (answer === null) throw new CliFailure('login_timeout', `no answer from the browser within ${BROWSER_WAIT_MS / 60_000} minutes`);
    if (!answer.ok) {
      throw new CliFailure('login_refused', `the server did not log you in: ${printable(answer.error)}${answer.description ? ` (${printable(answer.description)})` : ''}`);
    }
    // RFC 9207: an answer without the issuer, or from another one, may be a mix-up attack.
    if (answer.iss !== metadata.issuer) {
      throw new CliFailure('login_refused', `the browser's answer came from issuer ${printable(answer.iss ?? '(none)')}, not ${printable(metadata.issuer)}; nothing was saved`);
    }
    return await exchangeCode(io.fetch, server, clientId, answer.code, receiver.redirectUri, pkce.verifier);
  } finally {
    abort.abort();
    stopListening();
    receiver.close();
  }
}
