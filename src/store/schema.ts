/**
 * Kysely table types shared by SQLite and PostgreSQL. Instants are integer
 * epoch seconds (PostgreSQL `bigint`, parsed to number); JSON is stored as
 * text so both databases read and write it the same way.
 */
import type { Generated } from 'kysely';

export interface SigningKeyTable {
  kid: string;
  alg: string;
  /** Public JWK as JSON text. */
  public_jwk: string;
  /** Private key (PKCS#8 DER) sealed with the key-encryption key, base64url. */
  private_enc: string;
  created_at: number;
  /** The key is published from creation but signs only from this instant. */
  signs_from: number;
  /** When a newer key took over signing; null while it is the newest. */
  superseded_at: number | null;
  /** When it may leave the JWKS: the last token it signed has expired by then. */
  publish_until: number | null;
}

export interface TokenTable {
  jti: string;
  /** SHA-256 (base64url) of the whole token: proves a presented token is the one issued. */
  token_hash: string;
  sub: string;
  client_id: string;
  aud: string;
  /** Space-delimited, as in the token. */
  scope: string;
  grant_id: string | null;
  kid: string;
  iat: number;
  exp: number;
  auth_time: number | null;
  acr: string | null;
  /** JSON array text, or null. */
  amr: string | null;
  revoked_at: number | null;
  revoked_reason: string | null;
}

/** Replay protection for private_key_jwt client assertions (RFC 7523 `jti`). */
export interface ClientAssertionTable {
  client_id: string;
  jti: string;
  exp: number;
}

/** Server-wide key/value facts (e.g. the policy hash last loaded). */
export interface MetaTable {
  key: string;
  value: string;
}

export interface AccessRequestTable {
  id: string;
  requester: string;
  /** Mirrors state.status for indexed listing; the state JSON is the truth. */
  status: string;
  /** Space-delimited. */
  scopes: string;
  bundle: string | null;
  resource: string;
  duration_s: number;
  reason: string;
  ticket: string | null;
  starts_at: number | null;
  /** JSON object text. */
  context: string;
  /** The policy decision as JSON text (rule, outcome, message, policy_hash). */
  decision: string;
  /** The request state machine (src/access/request-machine.ts) as JSON text. */
  state: string;
  grant_id: string | null;
  created_at: number;
  /** A request still pending at this instant expires. */
  expires_at: number;
  updated_at: number;
  /** Optimistic concurrency: every write checks and bumps it. */
  version: number;
}

export interface GrantTable {
  id: string;
  request_id: string;
  principal: string;
  scopes: string;
  resource: string;
  starts_at: number;
  ends_at: number;
  revoked_at: number | null;
  revoked_by: string | null;
  revoke_reason: string | null;
  released_at: number | null;
  /** 1 for break-glass grants. */
  break_glass: number;
  /** none | pending | done */
  review: string;
  reviewed_by: string | null;
  reviewed_at: number | null;
  review_note: string | null;
  created_at: number;
}

/** One link of the audit hash chain (see src/audit/). */
export interface AuditEventTable {
  seq: number;
  id: string;
  /** RFC 3339 UTC with milliseconds. */
  at: string;
  type: string;
  actor: string | null;
  subject: string | null;
  /** JSON object text. */
  data: string;
  prev_hash: string;
  hash: string;
}

/** The chain's last link, locked by every appending transaction. */
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

/** An alert a detector raised (src/alerts/); `seq` is the seq of its `alert.raised` audit event. */
export interface AlertTable {
  seq: number;
  id: string;
  type: string;
  /** low | medium | high | critical */
  severity: string;
  /** RFC 3339 UTC with milliseconds: when the event that raised it happened. */
  at: string;
  principal: string | null;
  summary: string;
  /** JSON object text. */
  details: string;
  /** Seq of the audit event that raised it. */
  event_seq: number;
  created_at: number;
}

/** One webhook delivery (an alert or an approver notice) and its retry state; `dead` rows are the dead letters. */
export interface WebhookDeliveryTable {
  id: string;
  /** The alert type, or `request.pending`. */
  event: string;
  alert_id: string | null;
  url: string;
  /** json | slack */
  format: string;
  secret_env: string | null;
  /** The exact bytes sent (JSON text), the same on every attempt. */
  body: string;
  /** pending | delivered | dead */
  status: string;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  last_status: number | null;
  /** Due at this instant; while an attempt runs, the end of its lease. */
  next_attempt_at: number;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

/** A signed checkpoint of the audit chain (src/audit/checkpoint-token.ts). */
export interface AuditCheckpointTable {
  /** The event it vouches for. */
  seq: number;
  /** That event's hash. */
  hash: string;
  /** RFC 3339 UTC with milliseconds: when it was signed. */
  at: string;
  /** The signing key (signing_keys.kid). */
  kid: string;
  /** Compact JWS (ES256) over {iss, seq, hash, at}. */
  jws: string;
}

/** One refresh token (src/oauth/refresh-tokens.ts); the token itself is never stored. */
export interface RefreshTokenTable {
  /** SHA-256 (base64url) of the token. */
  token_hash: string;
  /** Every token rotated from one login shares it; reuse revokes them all. */
  family_id: string;
  client_id: string;
  principal: string;
  /** Space-delimited: the most the family's access tokens may carry. */
  scope: string;
  /** RFC 8707 resource of the family's access tokens; null for jitgate's own API. */
  resource: string | null;
  /** The access token issued together with this refresh token, revoked with the family. */
  access_jti: string | null;
  /** How the person logged in; refreshed tokens carry the same facts. */
  acr: string | null;
  /** JSON array text, or null. */
  amr: string | null;
  auth_time: number | null;
  created_at: number;
  /** Absolute end of the family: no rotation outlives it. */
  family_expires_at: number;
  /** Idle end of this token (never past family_expires_at). */
  expires_at: number;
  /** Set when rotated; a second use is a reuse. */
  used_at: number | null;
  /** Hash of the token it was rotated into. */
  replaced_by: string | null;
  revoked_at: number | null;
  revoked_reason: string | null;
}

/** One RFC 8628 device authorization (src/oauth/device-codes.ts). */
export interface DeviceAuthorizationTable {
  /** SHA-256 (base64url) of the device_code. */
  device_code_hash: string;
  /** 8 characters without the dash, upper case. */
  user_code: string;
  client_id: string;
  /** Space-delimited as requested; empty for the principal's baseline. */
  scope: string;
  resource: string | null;
  /** pending | approved | denied | consumed */
  status: string;
  /** The person who approved, and how they logged in. */
  principal: string | null;
  acr: string | null;
  /** JSON array text, or null. */
  amr: string | null;
  auth_time: number | null;
  created_at: number;
  expires_at: number;
  /** Least seconds between polls; grows by 5 on every slow_down. */
  interval_s: number;
  /** Epoch milliseconds of the last poll (the interval is checked to the millisecond). */
  last_polled_at_ms: number | null;
}

/** How often a principal used a scope at a resource, as gateways report it (src/usage/). */
export interface UsageTable {
  principal: string;
  scope: string;
  /** The resource's audience URI. */
  resource: string;
  /** Requests forwarded that needed the scope. */
  uses: number;
  first_used: number;
  last_used: number;
}

/** A person's sign-in at the login page, found by the SHA-256 of its cookie (src/login/). */
export interface LoginSessionTable {
  /** SHA-256 (base64url) of the cookie value; the value itself is never stored. */
  id_hash: string;
  principal: string;
  /** JSON array text (RFC 8176). */
  amr: string;
  acr: string | null;
  auth_time: number;
  created_at: number;
  last_seen_at: number;
  /** The earlier of the idle and the absolute limit; moved on each use. */
  expires_at: number;
}

/** A sign-in in progress: an authorization request or a device approval waiting for the person. */
export interface LoginRequestTable {
  id: string;
  /** authorize | device */
  kind: string;
  /** JSON object text: the validated request. */
  params: string;
  /** 1 when the sign-in must include MFA (acr_values asked for it). */
  require_mfa: number;
  /** SHA-256 of the browser's pre-login cookie: the request belongs to that browser only. */
  browser_hash: string;
  upstream_state_hash: string | null;
  upstream_nonce: string | null;
  upstream_verifier: string | null;
  created_at: number;
  expires_at: number;
}

/** An authorization code (RFC 6749 §4.1), found by its SHA-256; single use. */
export interface AuthorizationCodeTable {
  code_hash: string;
  client_id: string;
  redirect_uri: string;
  /** S256 PKCE challenge (RFC 7636). */
  code_challenge: string;
  scope: string | null;
  resource: string | null;
  principal: string;
  /** JSON array text. */
  amr: string;
  acr: string | null;
  auth_time: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  /** When a second redemption was tried: tokens recorded later are revoked at once. */
  replayed_at: number | null;
  /** JSON object text `{jtis, refresh_hash}`: what was issued from the code, to revoke on a replay. */
  issued: string | null;
}

/** A local user (src/identity/local-users.ts): jitgate's own identity source. */
export interface UserTable {
  /** Lower-case letters, digits, `.`, `_`, `-`; 1–64 characters. The principal is `user:<username>`. */
  username: string;
  /** `scrypt$N=…,r=…,p=…$salt$hash` (src/identity/password-hash.ts). */
  password_hash: string;
  /** The TOTP secret sealed with the key-encryption key, base64url; null until enrolled. */
  totp_secret_enc: string | null;
  /** The last TOTP time step accepted: codes of this step or earlier are replays. */
  totp_last_step: number | null;
  /** Consecutive failed logins; a success resets it. */
  failed_attempts: number;
  /** Epoch seconds until which logins are refused, or null. */
  locked_until: number | null;
  created_at: number;
  updated_at: number;
}

export interface Database {
  signing_keys: SigningKeyTable;
  tokens: TokenTable;
  client_assertions: ClientAssertionTable;
  meta: MetaTable;
  access_requests: AccessRequestTable;
  grants: GrantTable;
  audit_events: AuditEventTable;
  audit_head: AuditHeadTable;
  audit_checkpoints: AuditCheckpointTable;
  alerts: AlertTable;
  webhook_deliveries: WebhookDeliveryTable;
  users: UserTable;
  usage: UsageTable;
  refresh_tokens: RefreshTokenTable;
  device_authorizations: DeviceAuthorizationTable;
  login_sessions: LoginSessionTable;
  login_requests: LoginRequestTable;
  authorization_codes: AuthorizationCodeTable;
}

export type { Generated };
