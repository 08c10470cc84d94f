import { decodeJwt } from 'jose';
import { CliFailure } from './failure.js';

/** The claims of a jitgate access token the CLI reads. */
export interface TokenClaims {
  sub: string;
  scope: string;
  exp: number | null;
  client_id: string | null;
  /** The grant(s) behind an elevated token. */
  grants: string[];
}

/**
 * Reads a token's claims without verifying its signature: the CLI only
 * needs to know whom and what the server just issued to it over TLS; every
 * decision that matters is made by the server, which does verify.
 */
export function readClaims(token: string): TokenClaims {
  let payload: Record<string, unknown>;
  try {
    payload = decodeJwt(token);
  } catch {
    throw new CliFailure('token_malformed', 'the server answered with an access token that is not a JWT');
  }
  if (typeof payload.sub !== 'string') {
    throw new CliFailure('token_malformed', 'the access token from the server names no subject (sub)');
  }
  const grant = payload.grant;
  return {
    sub: payload.sub,
    scope: typeof payload.scope === 'string' ? payload.scope : '',
    exp: typeof payload.exp === 'number' ? payload.exp : null,
    client_id: typeof payload.client_id === 'string' ? payload.client_id : null,
    grants: typeof grant === 'string' ? [grant] : Array.isArray(grant) ? grant.filter((g): g is string => typeof g === 'string') : [],
  };
}
