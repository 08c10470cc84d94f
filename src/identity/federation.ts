import { createRemoteJWKSet, decodeJwt, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import type { Policy, TrustedIssuer } from '../policy/types.js';
import { InvalidGrant } from '../oauth/errors.js';
import { mapSubject } from './subject-template.js';

/** Signature algorithms accepted from identity providers; never `none` or HMAC. */
export const FEDERATION_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface FederatedIdentity {
  issuer: TrustedIssuer;
  principal: string;
  claims: JWTPayload;
  acr: string | null;
  amr: string[] | null;
  authTime: number | null;
}

type RemoteSet = ReturnType<typeof createRemoteJWKSet>;

/**
 * Verifies ID tokens and workload tokens from the policy's trusted issuers.
 * Each issuer's JWKS is fetched once and cached; an unknown `kid` triggers a
 * refetch, at most once per cooldown, so a key rotation at the provider is
 * picked up without letting a stream of bad tokens hammer it.
 */
export class FederationVerifier {
  private readonly sets = new Map<string, RemoteSet>();

  constructor(private readonly opts: { clockToleranceS: number; cooldownMs?: number; fetchTimeoutMs?: number }) {}

  /** The `iss` a JWT claims, unverified; null when it is not a JWT. */
  static issuerOf(token: string): string | null {
    try {
      const iss = decodeJwt(token).iss;
      return typeof iss === 'string' ? iss : null;
    } catch {
      return null;
    }
  }

  /** The issuer a token claims, when it is one of the policy's trusted issuers. */
  static claimedIssuer(policy: Policy, token: string): TrustedIssuer | null {
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      return null;
    }
    return policy.trustedIssuers.find((t) => t.issuer === iss) ?? null;
  }

  async verify(issuer: TrustedIssuer, token: string, nowMs: number): Promise<FederatedIdentity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keySet(issuer.jwksUri), {
        issuer: issuer.issuer,
        audience: issuer.audience,
        algorithms: FEDERATION_ALGS,
        requiredClaims: ['exp'],
        currentDate: new Date(nowMs),
        clockTolerance: this.opts.clockToleranceS,
      }));
    } catch (err) {
      throw new InvalidGrant(`subject_token rejected: ${describe(err)}`);
    }
    const principal = mapSubject(issuer.subject, payload as Record<string, unknown>);
    if (!principal) throw new InvalidGrant(`subject_token lacks the claims of subject template ${issuer.subject}`);
    const amr = Array.isArray(payload.amr) ? payload.amr.filter((v): v is string => typeof v === 'string') : null;
    return {
      issuer,
      principal,
      claims: payload,
      acr: typeof payload.acr === 'string' ? payload.acr : null,
      amr,
      authTime: typeof payload.auth_time === 'number' ? payload.auth_time : null,
    };
  }

  private keySet(uri: string): RemoteSet {
    let set = this.sets.get(uri);
    if (!set) {
      set = createRemoteJWKSet(new URL(uri), {
        cooldownDuration: this.opts.cooldownMs ?? 30_000,
        timeoutDuration: this.opts.fetchTimeoutMs ?? 5_000,
      });
      this.sets.set(uri, set);
    }
    return set;
  }
}

function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'token not yet valid';
    return `claim ${err.claim} is invalid (${err.reason})`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key in the issuer JWKS matches the token';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'signature algorithm not allowed';
  if (err instanceof joseErrors.JWKSTimeout) return 'the issuer JWKS did not answer in time';
  if (err instanceof joseErrors.JOSEError) return err.message;
  return 'token could not be verified';
}
