/**
 * `auth.failed`: a client authentication that failed at the token,
 * introspection or revocation endpoint. Which client it claimed to be, by
 * which method, from where, and why it failed; never what it presented.
 */
import type { Logger } from 'pino';
import type { WriteBatcher } from '../store/write-batcher.js';
import type { Clock } from '../util/clock.js';
import type { NewAuditEvent } from './append.js';
import { BatchedAuditAppender } from './batch-append.js';
import type { AuditLog } from './log.js';

export const AUTH_FAILED_EVENT = 'auth.failed';

/** One failed client authentication, as the endpoint saw it. */
export interface AuthFailure {
  /** The client id it claimed (unverified: whatever was sent). */
  clientId: string;
  /** client_secret_basic, client_secret_post, private_key_jwt or none. */
  method: string;
  /** The caller's address. */
  address: string;
  /** Why it failed, in words that reveal nothing presented. */
  reason: string;
}

/** Ids are attacker-chosen: keep what is stored short. */
const MAX_ID_LENGTH = 200;

export function authFailedEvent(f: AuthFailure, atMs: number): NewAuditEvent {
  const clientId = f.clientId.length > MAX_ID_LENGTH ? `${f.clientId.slice(0, MAX_ID_LENGTH)}…` : f.clientId;
  return {
    type: AUTH_FAILED_EVENT,
    actor: null,
    subject: `client:${clientId}`,
    data: { client_id: clientId, method: f.method, address: f.address, reason: f.reason },
    atMs,
  };
}

interface RecorderDeps {
  writer: WriteBatcher<unknown>;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
}

const appenders = new WeakMap<AuditLog, BatchedAuditAppender>();

/**
 * Records the failure, group-committed with the other writes of the moment,
 * and resolves once it is durable. Never rejects: a failing audit write is
 * logged, and the caller still answers `invalid_client`.
 */
export async function recordAuthFailure(deps: RecorderDeps, f: AuthFailure): Promise<void> {
  let appender = appenders.get(deps.audit);
  if (!appender) {
    appender = new BatchedAuditAppender(deps.writer, deps.audit);
    appenders.set(deps.audit, appender);
  }
  try {
    await appender.append(authFailedEvent(f, deps.clock.nowMs()));
  } catch (err) {
    deps.log.error({ err, client_id: f.clientId.slice(0, MAX_ID_LENGTH) }, 'recording a failed client authentication failed');
  }
}
