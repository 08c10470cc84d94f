/** `jitgate logout`: revokes the saved token at the server and forgets the login. */
import type { Command } from 'commander';
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
    .description('revoke the saved token and forget the login to a server')
    .option('--server <url>', SERVER_HELP)
    .addHelpText(
      'after',
      `
The token is revoked at the server first (RFC 7009), then removed from the
credentials file. When the server cannot be reached the login is removed
anyway and the exit status is 1: the token stays valid until it expires.
Grants are not touched: release them with jitgate release.

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
          // An expired token is harmless, and the server would only answer 200 for it.
          if (io.nowMs() < login.expires_at * 1000) await revokeToken(io.fetch, server, login.client_id, login.access_token);
        } catch (err) {
          revokeError = err;
        }
        writeCredentials(path, withoutLogin(file, server));
        if (revokeError) {
          io.err(renderFailure(revokeError));
          io.err(
            `jitgate: the login to ${server} is forgotten here, but the token was not revoked: ` +
              `it stays valid until ${new Date(login.expires_at * 1000).toISOString()}\n`,
          );
          return EXIT.failed;
        }
        io.out(`logged out of ${server} (${printable(login.principal)}); the token is revoked\n`);
      }),
    );
}
