import type { IssuedToken } from './issue-token.js';

/** RFC 6749 §5.1 success body (plus RFC 8693's issued_token_type for exchanges). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  issued_token_type?: string;
  refresh_token?: string;
}

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export function tokenResponse(issued: IssuedToken, exchange = false): TokenResponse {
  const body: TokenResponse = {
    access_token: issued.token,
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    scope: issued.claims.scope,
  };
  if (exchange) body.issued_token_type = ACCESS_TOKEN_TYPE;
  return body;
}
