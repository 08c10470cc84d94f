import { CliFailure } from './failure.js';
import { readClaims } from './jwt-claims.js';
import type { SavedLogin } from './credentials.js';
import type { TokenResponse } from './types.js';

/**
 * The login to save for a token response. The access token's end is the
 * earlier of what the token says and what the server said: clocks differ,
 * and neither may be missing. A refresh token in the answer replaces the
 * saved one (rotation); none keeps `previousRefresh` (a server that does not
 * rotate).
 */
export function savedLoginOf(server: string, clientId: string, issued: TokenResponse, nowMs: number, previousRefresh?: string): SavedLogin {
  const claims = readClaims(issued.access_token);
  const nowS = Math.floor(nowMs / 1000);
  const ends = [claims.exp, typeof issued.expires_in === 'number' ? nowS + issued.expires_in : null].filter(
    (x): x is number => typeof x === 'number',
  );
  if (ends.length === 0) throw new CliFailure('token_malformed', 'the server issued a token without an expiry; refusing to save it');
  const refresh = typeof issued.refresh_token === 'string' && issued.refresh_token !== '' ? issued.refresh_token : previousRefresh;
  return {
    server,
    access_token: issued.access_token,
    expires_at: Math.min(...ends),
    principal: claims.sub,
    scope: issued.scope ?? claims.scope,
    client_id: clientId,
    ...(refresh ? { refresh_token: refresh } : {}),
  };
}
