/** `jitgate login`: signs in through the browser, with a device code, or with an ID token, and saves the login. */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { action, processIo, type CliIo } from './client/cli-io.js';
import { browserLogin } from './client/browser-login.js';
import { credentialsPath, readCredentials, withLogin, writeCredentials } from './client/credentials.js';
import { deviceLogin } from './client/device-login.js';
import { formatInstant } from './client/duration.js';
import { usage } from './client/failure.js';
import { DEFAULT_CLIENT_ID, exchangeIdToken } from './client/oauth-client.js';
import { browserAvailable } from './client/open-browser.js';
import { SERVER_HELP } from './client/options.js';
import { savedLoginOf } from './client/saved-login.js';
import { isCleartextRemote } from './client/server-url.js';
import { chooseServer } from './client/session.js';
import { printable } from './client/terminal-text.js';

interface LoginFlags {
  server?: string;
  idToken?: string;
  idTokenFile?: string;
  browser?: boolean;
  device?: boolean;
  stepUp?: boolean;
  client: string;
}

/** The ACR jitgate's login page answers with TOTP (the server's `MFA_ACR`). */
const STEP_UP_ACR = 'urn:jitgate:acr:mfa';

type LoginMode = 'browser' | 'device' | 'id-token';

export function register(program: Command, io: CliIo = processIo()): void {
  program
    .command('login')
    .description('log in to a jitgate server: in the browser, with a device code, or with an ID token')
    .option('--server <url>', SERVER_HELP)
    .option('--browser', 'log in on the server\'s page in a browser on this machine (default on a desktop terminal)')
    .option('--step-up', 'sign in again now with MFA (what a scope marked mfa asks for); uses the browser')
    .option('--device', 'log in with a code typed on another device (default without a browser)')
    .option('--id-token <jwt>', 'ID token from a trusted identity provider (env JITGATE_ID_TOKEN)')
    .option('--id-token-file <path>', 'read the ID token from a file ("-" for standard input)')
    .option('--client <id>', 'OAuth client the CLI is registered as in the policy', DEFAULT_CLIENT_ID)
    .addHelpText(
      'after',
      `
Three ways to log in; the login is saved for this server in
$XDG_CONFIG_HOME/jitgate/credentials.json (else ~/.config/jitgate/),
readable by you alone. Logins to several servers are kept side by side; the
last one becomes the default server.

  --browser   opens the server's login page in your browser and takes the
              answer on http://127.0.0.1:<port>/callback (PKCE). When no
              browser opens, the address is printed.
  --device    prints an address and a code: open the address on any device
              (your phone, a laptop), sign in and enter the code.
  --id-token  exchanges an ID token of a trusted identity provider.

Without a flag: an ID token if one is given (--id-token-file, --id-token,
JITGATE_ID_TOKEN), else the browser on a terminal with a desktop, else a
device code. Browser and device logins keep a refresh token: commands renew
the access token by themselves until the login ends (12 h by default), then
ask you to log in again.

Examples:
  $ jitgate login --server https://jit.example.com
  $ jitgate login --server https://jit.example.com --step-up      # again with MFA, when a scope asks for it
  $ jitgate login --server https://jit.example.com --device
  To log in, open https://jit.example.com/device in a browser and enter the code
      BCDF-GHJK
  logged in to https://jit.example.com as user:alice (scopes: read:logs), token valid until 2026-03-02T09:15:00Z (in 15m)
  $ idp-cli get-token | jitgate login --server https://jit.example.com --id-token-file -

Exit status: 0 logged in, 1 not (the reason is printed), 130 interrupted.`,
    )
    .action(
      action(io, async (flags: LoginFlags) => {
        const path = credentialsPath(io.env);
        const file = readCredentials(path);
        const server = chooseServer(flags.server, io.env, file);
        const mode = loginMode(flags, io);
        // Read before anything is sent: a bad token source is a usage error.
        const idToken = mode === 'id-token' ? readIdToken(flags, io) : null;
        if (isCleartextRemote(server)) {
          io.err(`jitgate: warning: ${server} is plain http to another machine; tokens cross the network unencrypted\n`);
        }
        const issued =
          mode === 'browser'
            ? await browserLogin(io, server, flags.client, flags.stepUp ? { acrValues: STEP_UP_ACR, maxAge: 0 } : {})
            : mode === 'device'
              ? await deviceLogin(io, server, flags.client)
              : await exchangeIdToken(io.fetch, server, flags.client, idToken!);
        const login = savedLoginOf(server, flags.client, issued, io.nowMs());
        writeCredentials(path, withLogin(readCredentials(path), login));
        const scopes = login.scope.trim() ? login.scope.trim().split(/\s+/).join(', ') : 'none';
        io.out(
          `logged in to ${server} as ${printable(login.principal)} (scopes: ${printable(scopes)}), ` +
            `token valid until ${formatInstant(new Date(login.expires_at * 1000).toISOString(), io.nowMs())}\n`,
        );
      }),
    );
}

/** Which way to log in: the flag given, else an ID token when one is offered, else the browser where one can open, else a device code. */
function loginMode(flags: LoginFlags, io: CliIo): LoginMode {
  const idTokenGiven = flags.idToken !== undefined || flags.idTokenFile !== undefined;
  const chosen = [flags.browser && 'browser', flags.device && 'device', idTokenGiven && 'id-token'].filter(Boolean) as LoginMode[];
  if (chosen.length > 1) throw usage('choose one way to log in: --browser, --device or an ID token');
  if (flags.stepUp) {
    // The device page has no way to be told to insist on MFA; the browser's login page does.
    if (chosen.length === 1 && chosen[0] !== 'browser') throw usage('--step-up signs in on the browser page: leave out --device and the ID token');
    return 'browser';
  }
  if (chosen.length === 1) return chosen[0]!;
  if (io.env.JITGATE_ID_TOKEN) return 'id-token';
  return process.stdin.isTTY === true && browserAvailable(io.env) ? 'browser' : 'device';
}

/** The ID token from exactly one of --id-token, --id-token-file, JITGATE_ID_TOKEN. */
function readIdToken(flags: LoginFlags, io: CliIo): string {
  if (flags.idToken !== undefined && flags.idTokenFile !== undefined) {
    throw usage('give the ID token once: --id-token or --id-token-file, not both');
  }
  let token: string | undefined;
  let from: string;
  if (flags.idTokenFile !== undefined) {
    from = flags.idTokenFile === '-' ? 'standard input' : flags.idTokenFile;
    try {
      token = readFileSync(flags.idTokenFile === '-' ? 0 : flags.idTokenFile, 'utf8');
    } catch (err) {
      throw usage(`cannot read the ID token from ${from}: ${(err as Error).message}`);
    }
  } else if (flags.idToken !== undefined) {
    from = '--id-token';
    token = flags.idToken;
  } else {
    from = 'JITGATE_ID_TOKEN';
    token = io.env.JITGATE_ID_TOKEN;
  }
  token = token?.trim();
  if (!token) {
    throw usage(
      'no ID token: pass --id-token-file PATH, --id-token JWT, or set JITGATE_ID_TOKEN',
      '  (or log in with --browser or --device)',
    );
  }
  if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) throw usage(`the ID token from ${from} is not a JWT (header.payload.signature)`);
  return token;
}
