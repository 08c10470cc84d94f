/**
 * Verifying jitgate access tokens against the keyring (REST API, tests).
 * Resource servers do the same from the published JWKS.
 */
import { errors, jwtVerify, type JWTHeaderParameters } from 'jose';
import { JitgateError } from '../util/errors.js';
import { ACCESS_TOKEN_TYP, accessTokenClaimsSchema, type AccessTokenClaims } from './claims.js';
import type { Keyring } from './keyring.js';
import { UNKNOWN_KID_REFRESH_MIN_INTERVAL_S } from './key-timing.js';
import { SIGNING_ALG } from './signing-key-material.js';

export interface VerifyAccessTokenOptions {
  issuer: string;
  /** When given, `aud` must equal it. */
  audience?: string;
  /** Epoch seconds. */
  now: number;
  /** Leeway for `exp`, in seconds; 0 by default (the issuer checks its own tokens on its own clock). */
  clockToleranceS?: number;
  /**
   * A token naming an unknown kid re-reads the keys at most this often
   * (seconds; default UNKNOWN_KID_REFRESH_MIN_INTERVAL_S): the kid comes
   * from untrusted input and must not turn into a database query per request.
   */
  refreshMinIntervalS?: number;
}

const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'client_id', 'scope', 'jti', 'iat', 'exp'];

/**
 * Checks signature (ES256, a key published in `keyring`), `typ: at+jwt`,
 * issuer, audience and expiry, and returns the claims. Failures are
 * JitgateErrors: `token_expired`, `token_unknown_key` (a kid not published,
 * even after re-reading the keys), `token_invalid` (everything else). Error
 * messages never contain the token.
 */
export async function verifyAccessToken(
  keyring: Keyring,
  token: string,
  opts: VerifyAccessTokenOptions,
): Promise<AccessTokenClaims> {
  const getKey = async (header: JWTHeaderParameters) => {
    const kid = header.kid;
    if (typeof kid !== 'string' || kid === '') throw new JitgateError('token_invalid', 'the token header has no kid');
    let key = keyring.verificationKey(kid, opts.now);
    if (key === undefined) {
      // Perhaps a key rotated in by another process since our last read.
      await keyring.refresh({ minIntervalS: opts.refreshMinIntervalS ?? UNKNOWN_KID_REFRESH_MIN_INTERVAL_S });
      key = keyring.verificationKey(kid, opts.now);
    }
    if (key === undefined) {
      throw new JitgateError('token_unknown_key', 'the token is signed with a key that is not (or no longer) published');
    }
    return key;
  };

  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, getKey, {
      algorithms: [SIGNING_ALG],
      typ: ACCESS_TOKEN_TYP,
      issuer: opts.issuer,
      ...(opts.audience !== undefined ? { audience: opts.audience } : {}),
      currentDate: new Date(opts.now * 1000),
      clockTolerance: opts.clockToleranceS ?? 0,
      requiredClaims: REQUIRED_CLAIMS,
    }));
  } catch (err) {
    throw toJitgateError(err);
  }

  const parsed = accessTokenClaimsSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new JitgateError('token_invalid', `the token's claim ${issue?.path.join('.') ?? ''} is malformed`);
  }
  return parsed.data;
}

// jose's claim errors carry the whole payload; they are not kept as `cause`
// so that logging an error cannot spill a token's contents.
function toJitgateError(err: unknown): JitgateError {
  if (err instanceof JitgateError) return err;
  if (err instanceof errors.JWTExpired) {
    return new JitgateError('token_expired', 'the token has expired');
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new JitgateError('token_invalid', `the token's ${err.claim} claim is not acceptable (${err.reason})`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new JitgateError('token_invalid', 'the token signature does not verify', { cause: err });
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return new JitgateError('token_invalid', 'the token is not signed with ES256', { cause: err });
  }
  if (err instanceof errors.JOSEError) {
    return new JitgateError('token_invalid', 'the token is not a well-formed signed JWT', { cause: err });
  }
  return new JitgateError('token_invalid', 'the token could not be verified', { cause: err });
}
