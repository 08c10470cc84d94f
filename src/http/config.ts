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
  /** How long an access request may wait for approvers before it expires, seconds. Default 3600. */
  requestTtlS: number;
  /** Longest grant for a scope without `max_ttl`, seconds. Default 28800 (8 h). */
  maxGrantS: number;
  /** How far ahead `starts_at` may schedule access, seconds. Default 604800 (7 days). */
  maxScheduleAheadS: number;
  /** How recent a person's MFA must be for `mfa: true` scopes, seconds. Default 900. */
  mfaMaxAgeS: number;
  /** Absolute lifetime of a refresh token family (from the login, across rotations), seconds. Default 43200 (12 h). */
  refreshTokenLifetimeS: number;
  /** A refresh token unused this long expires (never past its family's end), seconds. Default 14400 (4 h). */
  refreshTokenIdleS: number;
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
  requestTtlS: 3600,
  maxGrantS: 28_800,
  maxScheduleAheadS: 604_800,
  mfaMaxAgeS: 900,
  refreshTokenLifetimeS: 43_200,
  refreshTokenIdleS: 14_400,
};
