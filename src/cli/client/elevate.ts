import type { CliIo } from './cli-io.js';
import { CliFailure, usage } from './failure.js';
import { exchangeForScopes, TokenEndpointFailure } from './oauth-client.js';
import type { Session } from './session.js';
import { printable } from './terminal-text.js';
import type { TokenResponse } from './types.js';

/**
 * Exchanges the saved login for a token carrying `scopes` (RFC 8693). When no
 * live grant covers them the server says which request is needed; that is
 * what gets printed, with the command that files it.
 */
export async function elevatedToken(io: CliIo, session: Session, scopes: readonly string[], resource: string | undefined): Promise<TokenResponse> {
  if (scopes.length === 0) throw usage('--scope is required: the scopes the token must carry (--scope deploy:prod)');
  try {
    const login = await session.fresh();
    return await exchangeForScopes(io.fetch, session.server, login.client_id, login.access_token, scopes, resource);
  } catch (err) {
    if (!(err instanceof TokenEndpointFailure)) throw err;
    const { error, error_description: description } = err.error;
    if (error === 'invalid_scope') {
      // The server's description says which request is needed; the command to file it is added unless it names one.
      const text = printable(description ?? `no live grant covers ${scopes.join(' ')}`);
      throw new CliFailure('no_grant', [
        text,
        ...(text.includes('jitgate request')
          ? []
          : [`  request it: jitgate request ${scopes.join(' ')}${resource ? ` --resource ${resource}` : ''} --for 30m --reason "…" --wait`]),
      ]);
    }
    if (error === 'invalid_grant') {
      throw new CliFailure('login_rejected', [
        `the server no longer accepts your login${description ? `: ${printable(description)}` : ''}`,
        `  run: jitgate login --server ${session.server}`,
      ]);
    }
    throw err;
  }
}
