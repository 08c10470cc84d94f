import { ApiClient } from './api-client.js';
import type { CliIo } from './cli-io.js';
import { credentialsPath, readCredentials, type CredentialsFile, type SavedLogin } from './credentials.js';
import { formatInstant } from './duration.js';
import { CliFailure } from './failure.js';
import { normalizeServerUrl } from './server-url.js';

/** The server a verb talks to: `--server`, else `JITGATE_SERVER`, else the one logged in to last. */
export function chooseServer(flag: string | undefined, env: NodeJS.ProcessEnv, file: CredentialsFile): string {
  const raw = flag ?? (env.JITGATE_SERVER || undefined) ?? file.current ?? undefined;
  if (!raw) {
    const saved = Object.keys(file.logins);
    throw new CliFailure('no_server', [
      'which jitgate server? pass --server URL or set JITGATE_SERVER',
      saved.length > 0 ? `  saved logins: ${saved.join(', ')}` : '  then log in: jitgate login --server URL --id-token-file FILE',
    ]);
  }
  return normalizeServerUrl(raw);
}

/** A logged-in verb's view of the world: its server, its saved login, and an API client carrying the token. */
export interface Session {
  server: string;
  login: SavedLogin;
  api: ApiClient;
}

/**
 * The saved login for the chosen server, refused when there is none or it
 * has expired: a request doomed to a 401 is not worth sending.
 */
export function openSession(flags: { server?: string }, io: CliIo): Session {
  const file = readCredentials(credentialsPath(io.env));
  const server = chooseServer(flags.server, io.env, file);
  const login = file.logins[server];
  if (!login) {
    throw new CliFailure('not_logged_in', [`not logged in to ${server}`, `  run: jitgate login --server ${server} --id-token-file FILE`]);
  }
  if (io.nowMs() >= login.expires_at * 1000) {
    throw new CliFailure('login_expired', [
      `your login expired; run jitgate login --server ${server}`,
      `  (the token of ${login.principal} expired at ${formatInstant(new Date(login.expires_at * 1000).toISOString(), io.nowMs())})`,
    ]);
  }
  return { server, login, api: new ApiClient({ server, token: login.access_token, fetch: io.fetch }) };
}
