/** Server settings with their documented defaults (see docs/configuration.md). */
export interface ServerConfig {
  /** The issuer URL: `iss` of every token and the base of every endpoint. */
  issuer: string;
  /** Lifetime of access tokens before any scope's `max_ttl` cuts it, seconds. Default 900 (15 min). */
  tokenLifetimeS: number;
  /** Largest request body accepted, bytes. Default 65536. */
  bodyLimit: number;
  /** Failed client authentications allowed per client id within `failureWindowMs`. Default 20. */
  maxAuthFailures: number;
  /** Failed client authentications allowed per source address within `failureWindowMs`. Default 100. */
  maxAuthFailuresPerAddress: number;
  /** Default 300000 (5 min). */
  failureWindowMs: number;
  /** JWKS Cache-Control max-age, seconds; kept below the key publish delay. Default 60. */
  jwksMaxAgeS: number;
  /** Accepted clock skew for tokens from trusted issuers, seconds. Default 30. */
  federationClockToleranceS: number;
  /** Least time between two fetches of a trusted issuer's JWKS on an unknown kid, ms. Default 30000. */
  federationJwksCooldownMs: number;
}

export const DEFAULT_CONFIG: Omit<ServerConfig, 'issuer'> = {
  tokenLifetimeS: 900,
  bodyLimit: 65_536,
  maxAuthFailures: 20,
  maxAuthFailuresPerAddress: 100,
  failureWindowMs: 300_000,
  jwksMaxAgeS: 60,
  federationClockToleranceS: 30,
  federationJwksCooldownMs: 30_000,
};
