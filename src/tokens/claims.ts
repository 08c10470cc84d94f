/**
 * The claims of a jitgate access token (RFC 9068 JWT profile, `typ: at+jwt`).
 * Instants are epoch seconds.
 */
import { z } from 'zod';

/** The JOSE `typ` header of every jitgate access token. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

export interface AccessTokenClaims {
  iss: string;
  /** The principal: `user:<id>` or `client:<id>`. */
  sub: string;
  /** The resource's audience URI, or the issuer URL for jitgate's own API. */
  aud: string;
  client_id: string;
  /** Space-delimited scopes. */
  scope: string;
  jti: string;
  iat: number;
  exp: number;
  acr?: string;
  amr?: string[];
  /** When the person logged in (epoch seconds). */
  auth_time?: number;
  /** The grant id, on elevated tokens. */
  grant?: string;
}

const epochSeconds = z.number().int().nonnegative();

/** Checks the shape of verified claims; unknown claims are dropped. */
export const accessTokenClaimsSchema = z.object({
  iss: z.string().min(1),
  sub: z.string().min(1),
  aud: z.string().min(1),
  client_id: z.string().min(1),
  scope: z.string(),
  jti: z.string().min(1),
  iat: epochSeconds,
  exp: epochSeconds,
  acr: z.string().optional(),
  amr: z.array(z.string()).optional(),
  auth_time: epochSeconds.optional(),
  grant: z.string().min(1).optional(),
});
