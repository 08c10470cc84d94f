import { Agent } from 'undici';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/schema.js';
import { nowS, type Clock } from '../util/clock.js';
import { retryDelayS, type RetrySchedule } from './retry-schedule.js';
import { signatureHeader, SIGNATURE_HEADER } from './signature.js';
import { sendWebhook, redactUrl } from './webhook-sender.js';
import { claimDelivery, deadLetterUnsent, dueDeliveries, pruneDelivered, recordOutcome, type DeliveryRow } from './delivery-store.js';

export interface DeliveryWorkerOptions {
  retry: RetrySchedule;
  /** Per attempt, connect to last byte, ms. */
  timeoutMs: number;
  /** Deliveries attempted at once per round. */
  batch: number;
  /** How long delivered records are kept, seconds. */
  retainDeliveredS: number;
  /** [0, 1); the jitter's source. */
  random: () => number;
}

export interface DeliveryWorkerDeps {
  db: Kysely<Database>;
  clock: Clock;
  log: Logger;
  /** Where `secret_env` names are looked up, at each attempt. */
  env: NodeJS.ProcessEnv;
}

/**
 * Sends what is due in webhook_deliveries, signed, and writes down each
 * outcome: delivered; pending again after a backoff; or dead (the dead
 * letter) once attempts are exhausted or when there is no secret to sign
 * with. State lives in the table, so retries survive a restart and any node
 * may send.
 */
export class DeliveryWorker {
  private readonly agent: Agent;
  private lastPruneS = 0;

  constructor(
    private readonly deps: DeliveryWorkerDeps,
    private readonly opts: DeliveryWorkerOptions,
  ) {
    this.agent = new Agent({ connect: { timeout: opts.timeoutMs }, headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs });
  }

  /** One round: attempts every due delivery (up to `batch`); resolves with how many were taken. */
  async deliverDue(): Promise<number> {
    const now = nowS(this.deps.clock);
    await this.pruneNow(now);
    const due = await dueDeliveries(this.deps.db, now, this.opts.batch);
    const taken = await Promise.all(due.map((row) => this.attempt(row, now)));
    return taken.filter(Boolean).length;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async attempt(row: DeliveryRow, now: number): Promise<boolean> {
    const { db, log } = this.deps;
    const secret = row.secret_env ? this.deps.env[row.secret_env] : undefined;
    if (!secret) {
      const error = row.secret_env
        ? `environment variable ${row.secret_env} is not set; deliveries are never sent unsigned`
        : 'the webhook names no secret_env; deliveries are never sent unsigned';
      if (await deadLetterUnsent(db, row, now, error)) {
        log.error({ delivery: row.id, event: row.event, webhook: redactUrl(row.url) }, `webhook delivery skipped: ${error}`);
      }
      return false;
    }
    const leaseS = Math.ceil(this.opts.timeoutMs / 1000) + 30;
    if (!(await claimDelivery(db, row, now, leaseS))) return false;
    const attempt = row.attempts + 1;
    const t = nowS(this.deps.clock);
    const result = await sendWebhook(
      this.agent,
      row.url,
      row.body,
      {
        'content-type': 'application/json',
        'user-agent': 'jitgate-webhook',
        [SIGNATURE_HEADER]: signatureHeader(secret, t, row.body),
        'x-jitgate-event': row.event,
        'x-jitgate-delivery': row.id,
      },
      this.opts.timeoutMs,
    );
    const after = nowS(this.deps.clock);
    if (result.ok) {
      await recordOutcome(db, row.id, after, { status: 'delivered', lastError: null, lastStatus: result.status });
      return true;
    }
    const delay = retryDelayS(attempt, { ...this.opts.retry, maxAttempts: Number(row.max_attempts) }, this.opts.random());
    if (delay === null) {
      await recordOutcome(db, row.id, after, { status: 'dead', lastError: result.error, lastStatus: result.status });
      log.error(
        { delivery: row.id, event: row.event, webhook: redactUrl(row.url), attempts: attempt, error: result.error },
        'webhook delivery failed for the last time; kept as a dead letter',
      );
    } else {
      await recordOutcome(db, row.id, after, { status: 'pending', nextAttemptAt: after + delay, lastError: result.error, lastStatus: result.status });
      log.warn({ delivery: row.id, event: row.event, webhook: redactUrl(row.url), attempt, retryInS: delay, error: result.error }, 'webhook delivery failed; will retry');
    }
    return true;
  }

  private async pruneNow(now: number): Promise<void> {
    if (now - this.lastPruneS < 3600) return;
    this.lastPruneS = now;
    await pruneDelivered(this.deps.db, now - this.opts.retainDeliveredS);
  }
}
