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
}

export type { Generated };
