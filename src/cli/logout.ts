/** `jitgate logout`: revokes the saved tokens at the server and forgets the login. */
import type { Command } from 'commander';
import { rmSync } from 'node:fs';
import { action, processIo, type CliIo } from './client/cli-io.js';
import { credentialsPath, readCredentials, withoutLogin, writeCredentials } from './client/credentials.js';
import { CliFailure, EXIT, renderFailure } from './client/failure.js';
import { revokeToken } from './client/oauth-client.js';
import { SERVER_HELP } from './client/options.js';
import { chooseServer } from './client/session.js';
import { printable } from './client/terminal-text.js';

export function register(program: Command, io: CliIo = processIo()): void {
  program
    .command('logout')
    .description('revoke the saved tokens and forget the login to a server')
    .option('--server <url>', SERVER_HELP)
    .addHelpText(
      'after',
      `
The refresh token (which ends the whole login) and the access token are
revoked at the server first (RFC 7009), then the login is removed from the
credentials file, and the file itself once no login is left. When the server
cannot be reached the login is removed anyway and the exit status is 1: the
tokens stay valid until they expire. Grants are not touched: release them
with jitgate release.

Examples:
  $ jitgate logout
  logged out of https://jit.example.com (user:alice); the token is revoked
  $ jitgate logout --server http://127.0.0.1:8080`,
    )
    .action(
      action(io, async (flags: { server?: string }) => {
        const path = credentialsPath(io.env);
        const file = readCredentials(path);
        const server = chooseServer(flags.server, io.env, file);
        const login = file.logins[server];
        if (!login) throw new CliFailure('not_logged_in', `not logged in to ${server}: nothing to do`);
        let revokeError: unknown = null;
        try {
          // The refresh token first: revoking it ends the login at the server, access tokens issued from it included.
          if (login.refresh_token) await revokeToken(io.fetch, server, login.client_id, login.refresh_token, 'refresh_token');
          // An expired token is harmless, and the server would only answer 200 for it.
          if (io.nowMs() < login.expires_at * 1000) await revokeToken(io.fetch, server, login.client_id, login.access_token);
        } catch (err) {
          revokeError = err;
        }
        const rest = withoutLogin(file, server);
        if (Object.keys(rest.logins).length === 0) rmSync(path, { force: true });
        else writeCredentials(path, rest);
        if (revokeError) {
          io.err(renderFailure(revokeError));
          io.err(
            `jitgate: warning: the login to ${server} is forgotten here, but not revoked at the server: ` +
              `the access token stays valid until ${new Date(login.expires_at * 1000).toISOString()}` +
              `${login.refresh_token ? ', and the refresh token until the login ends' : ''}\n`,
          );
          return EXIT.failed;
        }
        io.out(`logged out of ${server} (${printable(login.principal)}); the ${login.refresh_token ? 'login and its tokens are' : 'token is'} revoked\n`);
      }),
    );
}
