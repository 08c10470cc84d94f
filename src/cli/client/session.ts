import { ApiClient } from './api-client.js';
import type { CliIo } from './cli-io.js';
import { credentialsPath, readCredentials, withRenewedLogin, writeCredentials, type CredentialsFile, type SavedLogin } from './credentials.js';
import { withCredentialsLock } from './credentials-lock.js';
import { formatInstant } from './duration.js';
import { CliFailure } from './failure.js';
import { refreshAccessToken, TokenEndpointFailure } from './oauth-client.js';
import { savedLoginOf } from './saved-login.js';
import { normalizeServerUrl } from './server-url.js';
import { printable } from './terminal-text.js';

/** An access token this close to its end is renewed before use: it could expire on the way. */
export const RENEW_BEFORE_S = 30;

/** The server a verb talks to: `--server`, else `JITGATE_SERVER`, else the one logged in to last. */
export function chooseServer(flag: string | undefined, env: NodeJS.ProcessEnv, file: CredentialsFile): string {
  const raw = flag ?? (env.JITGATE_SERVER || undefined) ?? file.current ?? undefined;
  if (!raw) {
    const saved = Object.keys(file.logins);
    throw new CliFailure('no_server', [
      'which jitgate server? pass --server URL or set JITGATE_SERVER',
      saved.length > 0 ? `  saved logins: ${saved.join(', ')}` : '  then log in: jitgate login --server URL',
    ]);
  }
  return normalizeServerUrl(raw);
}

/** A logged-in verb's view of the world: its server, its saved login, and an API client carrying the token. */
export interface Session {
  server: string;
  /** The login as last saved; after a renewal, the renewed one. */
  readonly login: SavedLogin;
  /** Sends the current access token, renewing it first when it is about to expire. */
  api: ApiClient;
  /** The login with an access token good for at least {@link RENEW_BEFORE_S}, renewed with the refresh token when needed. */
  fresh(): Promise<SavedLogin>;
}

/**
 * The saved login for the chosen server. Refused when there is none, or
 * when its access token has expired and there is no refresh token to renew
 * it with: a request doomed to a 401 is not worth sending.
 */
export function openSession(flags: { server?: string }, io: CliIo): Session {
  const path = credentialsPath(io.env);
  const file = readCredentials(path);
  const server = chooseServer(flags.server, io.env, file);
  let login = file.logins[server];
  if (!login) {
    throw new CliFailure('not_logged_in', [`not logged in to ${server}`, `  run: jitgate login --server ${server}`]);
  }
  if (!login.refresh_token && io.nowMs() >= login.expires_at * 1000) throw expired(server, login, io);

  const fresh = async (): Promise<SavedLogin> => {
    const current = login!;
    if (io.nowMs() < (current.expires_at - RENEW_BEFORE_S) * 1000 || !current.refresh_token) {
      if (io.nowMs() >= current.expires_at * 1000) throw expired(server, current, io);
      return current;
    }
    login = await renew(path, server, current, io);
    return login;
  };
  return {
    server,
    get login() {
      return login!;
    },
    api: new ApiClient({ server, token: async () => (await fresh()).access_token, fetch: io.fetch }),
    fresh,
  };
}

function expired(server: string, login: SavedLogin, io: CliIo): CliFailure {
  return new CliFailure('login_expired', [
    `your login expired; run jitgate login --server ${server}`,
    `  (the token of ${printable(login.principal)} expired at ${formatInstant(new Date(login.expires_at * 1000).toISOString(), io.nowMs())})`,
  ]);
}

/**
 * Spends the refresh token for a new access token and saves both (the
 * refresh token rotates). Under the credentials lock, and after reading the
 * file again: another command may have renewed the login meanwhile, and
 * spending the old refresh token a second time would end the login.
 */
async function renew(path: string, server: string, seen: SavedLogin, io: CliIo): Promise<SavedLogin> {
  return withCredentialsLock(path, io, async () => {
    const file = readCredentials(path);
    const saved = file.logins[server];
    if (!saved || saved.principal !== seen.principal) {
      throw new CliFailure('not_logged_in', [`the login to ${server} changed meanwhile`, `  run: jitgate login --server ${server}`]);
    }
    if (io.nowMs() < (saved.expires_at - RENEW_BEFORE_S) * 1000 || !saved.refresh_token) return saved;
    let issued;
    try {
      issued = await refreshAccessToken(io.fetch, server, saved.client_id, saved.refresh_token);
    } catch (err) {
      if (err instanceof TokenEndpointFailure && err.error.error === 'invalid_grant') {
        throw new CliFailure('login_expired', [
          `your login has ended${err.error.error_description ? ` (${printable(err.error.error_description)})` : ''}`,
          `  log in again: jitgate login --server ${server}`,
        ]);
      }
      // Unreachable or refusing for another reason: the token in hand still works for a little while.
      if (io.nowMs() < saved.expires_at * 1000) return saved;
      throw err;
    }
    const renewed = savedLoginOf(server, saved.client_id, issued, io.nowMs(), saved.refresh_token);
    if (renewed.principal !== saved.principal) {
      throw new CliFailure('token_malformed', `the server renewed the login of ${printable(saved.principal)} with a token for ${printable(renewed.principal)}`);
    }
    writeCredentials(path, withRenewedLogin(file, renewed));
    return renewed;
  });
}
