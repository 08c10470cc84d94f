/** `jitgate login`: exchanges an identity provider's ID token for a jitgate token and saves it. */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { action, processIo, type CliIo } from './client/cli-io.js';
import { credentialsPath, readCredentials, withLogin, writeCredentials, type SavedLogin } from './client/credentials.js';
import { formatInstant } from './client/duration.js';
import { CliFailure, usage } from './client/failure.js';
import { readClaims } from './client/jwt-claims.js';
import { DEFAULT_CLIENT_ID, exchangeIdToken } from './client/oauth-client.js';
import { SERVER_HELP } from './client/options.js';
import { isCleartextRemote } from './client/server-url.js';
import { chooseServer } from './client/session.js';
import { printable } from './client/terminal-text.js';

interface LoginFlags {
  server?: string;
  idToken?: string;
  idTokenFile?: string;
  client: string;
}

export function register(program: Command, io: CliIo = processIo()): void {
  program
    .command('login')
    .description('log in to a jitgate server with an ID token from your identity provider')
    .option('--server <url>', SERVER_HELP)
    .option('--id-token <jwt>', 'ID token from a trusted identity provider (env JITGATE_ID_TOKEN)')
    .option('--id-token-file <path>', 'read the ID token from a file ("-" for standard input)')
    .option('--client <id>', 'OAuth client the CLI is registered as in the policy', DEFAULT_CLIENT_ID)
    .addHelpText(
      'after',
      `
The ID token is exchanged (RFC 8693) for a jitgate token with your baseline
scopes, saved for this server in $XDG_CONFIG_HOME/jitgate/credentials.json
(else ~/.config/jitgate/), readable by you alone. Logins to several servers
are kept side by side; the last one becomes the default server.

Browser and device-code login are not available yet: get an ID token from
your identity provider (with MFA when you need scopes that require it) and
pass it here. Prefer --id-token-file or JITGATE_ID_TOKEN over --id-token,
which other users of the machine can see in the process list.

Examples:
  $ jitgate login --server https://jit.example.com --id-token-file ~/idtoken.jwt
  logged in to https://jit.example.com as user:alice (scopes: read:logs), token valid until 2026-03-02T09:15:00Z (in 15m)
  $ idp-cli get-token | jitgate login --server https://jit.example.com --id-token-file -
  $ JITGATE_ID_TOKEN=$(cat idtoken.jwt) jitgate login

Exit status: 0 logged in, 1 not (the reason is printed).`,
    )
    .action(
      action(io, async (flags: LoginFlags) => {
        const path = credentialsPath(io.env);
        const file = readCredentials(path);
        const server = chooseServer(flags.server, io.env, file);
        const idToken = readIdToken(flags, io);
        if (isCleartextRemote(server)) {
          io.err(`jitgate: warning: ${server} is plain http to another machine; tokens cross the network unencrypted\n`);
        }
        const issued = await exchangeIdToken(io.fetch, server, flags.client, idToken);
        const claims = readClaims(issued.access_token);
        const nowS = Math.floor(io.nowMs() / 1000);
        // The earlier of what the token says and what the server said: clocks differ, neither may be missing.
        const ends = [claims.exp, typeof issued.expires_in === 'number' ? nowS + issued.expires_in : null].filter(
          (x): x is number => typeof x === 'number',
        );
        if (ends.length === 0) throw new CliFailure('token_malformed', 'the server issued a token without an expiry; refusing to save it');
        const login: SavedLogin = {
          server,
          access_token: issued.access_token,
          expires_at: Math.min(...ends),
          principal: claims.sub,
          scope: issued.scope ?? claims.scope,
          client_id: flags.client,
        };
        writeCredentials(path, withLogin(file, login));
        const scopes = login.scope.trim() ? login.scope.trim().split(/\s+/).join(', ') : 'none';
        io.out(
          `logged in to ${server} as ${printable(login.principal)} (scopes: ${printable(scopes)}), ` +
            `token valid until ${formatInstant(new Date(login.expires_at * 1000).toISOString(), io.nowMs())}\n`,
        );
      }),
    );
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
      '  (browser and device-code login are not available yet)',
    );
  }
  if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) throw usage(`the ID token from ${from} is not a JWT (header.payload.signature)`);
  return token;
}
