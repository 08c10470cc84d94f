import type { AuditEventRecord } from '../audit/append.js';
import type { ServerContext } from '../http/context.js';
import { nowS } from '../util/clock.js';
import type { AlertView, RaisedAlert } from './alert.js';
import { DEFAULT_DETECTOR_OPTIONS, type DetectorOptions } from './detector-options.js';
import { emptyDetectorState, type DetectorState } from './detector-state.js';
import { detect, DETECTED_EVENT_TYPES } from './detect.js';
import { lookupFacts } from './facts-lookup.js';
import { pendingNotices, NOTICE_EVENT_TYPES, type PendingNotice } from './pending-notice.js';
import { saveAlerts } from './alert-store.js';
import { insertDeliveries, newDeliveryRows } from './delivery-store.js';
import { webhooksFor } from './subscriptions.js';
import { DeliveryWorker } from './delivery-worker.js';
import { DEFAULT_RETRY_SCHEDULE, type RetrySchedule } from './retry-schedule.js';

/** Tuning of alerts and webhook delivery; every field has a documented default (docs/alerts.md). */
export interface AlertServiceOptions {
  detectors?: Partial<DetectorOptions>;
  retry?: Partial<RetrySchedule>;
  /** Per delivery attempt, ms. Default 10000. */
  timeoutMs?: number;
  /** How often due retries are looked for, ms. Default 5000. */
  pollMs?: number;
  /** How long delivered records are kept, seconds. Default 604800 (7 days). */
  retainDeliveredS?: number;
  /** The jitter's source, [0, 1). Default Math.random. */
  random?: () => number;
}

const RELEVANT = new Set([...DETECTED_EVENT_TYPES, ...NOTICE_EVENT_TYPES]);

/**
 * Watches the audit log: every committed event goes through the detectors
 * (one at a time, in commit order, so detector state is consistent), raised
 * alerts are stored with their `alert.raised` events, and alerts and
 * approver notices are handed to the delivery worker. Detection never slows
 * down the change that caused it: it runs after the commit, off the request.
 */
export class AlertService {
  private state: DetectorState = emptyDetectorState();
  private queue: Promise<void> = Promise.resolve();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly worker: DeliveryWorker;
  private readonly detectorOptions: DetectorOptions;
  private readonly retry: RetrySchedule;
  private readonly pollMs: number;
  private stopped = false;

  constructor(
    private readonly ctx: ServerContext,
    env: NodeJS.ProcessEnv,
    options: AlertServiceOptions = {},
  ) {
    this.detectorOptions = { ...DEFAULT_DETECTOR_OPTIONS, ...options.detectors };
    this.retry = { ...DEFAULT_RETRY_SCHEDULE, ...options.retry };
    this.pollMs = options.pollMs ?? 5000;
    this.worker = new DeliveryWorker(
      { db: ctx.store.db, clock: ctx.clock, log: ctx.log, env },
      {
        retry: this.retry,
        timeoutMs: options.timeoutMs ?? 10_000,
        batch: 20,
        retainDeliveredS: options.retainDeliveredS ?? 604_800,
        random: options.random ?? Math.random,
      },
    );
  }

  /** Subscribes to the audit log and starts the retry poll; returns the stop function. */
  start(): () => Promise<void> {
    this.ctx.audit.on('appended', this.onAppended);
    const timer = setInterval(() => this.kick(), this.pollMs);
    timer.unref();
    this.kick();
    return async () => {
      this.stopped = true;
      this.ctx.audit.off('appended', this.onAppended);
      clearInterval(timer);
      await this.queue;
      await Promise.allSettled([...this.inflight]);
      await this.worker.close();
    };
  }

  /**
   * Resolves once every event announced so far has been through the
   * detectors and every delivery due now has been attempted. For tests and
   * an orderly shutdown; the server never waits on it.
   */
  async settle(): Promise<void> {
    await this.queue;
    await Promise.allSettled([...this.inflight]);
    while ((await this.worker.deliverDue()) > 0) {
      // Attempts made this round may have made others due (a frozen clock never moves them on).
    }
  }

  /** Attempts every delivery due now, once. */
  deliverDue(): Promise<number> {
    return this.worker.deliverDue();
  }

  private readonly onAppended = (records: readonly AuditEventRecord[]): void => {
    // Token batches are announced many times a second: skip them before queueing anything.
    const relevant = records.filter((r) => RELEVANT.has(r.type));
    if (relevant.length === 0) return;
    this.queue = this.queue.then(() =>
      this.process(relevant).catch((err) => this.ctx.log.error({ err, seqs: relevant.map((r) => r.seq) }, 'alert detection failed')),
    );
  };

  private async process(records: readonly AuditEventRecord[]): Promise<void> {
    const { ctx } = this;
    const policy = ctx.policy.current;
    const raised: RaisedAlert[] = [];
    const notices: PendingNotice[] = [];
    for (const e of records) {
      const facts = await lookupFacts(ctx.store.db, e, policy);
      const r = detect(e, this.state, policy, facts, this.detectorOptions);
      this.state = r.state;
      raised.push(...r.alerts);
      notices.push(...pendingNotices(e, facts, ctx.config.issuer));
    }
    const now = nowS(ctx.clock);
    const alerts: AlertView[] = await saveAlerts(ctx.audit, raised, policy.webhooks, now, this.retry.maxAttempts);
    for (const a of alerts) ctx.log.warn({ alert: a.id, type: a.type, severity: a.severity, principal: a.principal }, a.summary);
    const noticeRows = notices.flatMap((n) =>
      newDeliveryRows({ kind: 'notification', notice: n }, webhooksFor(policy.webhooks, 'request.pending'), now, this.retry.maxAttempts),
    );
    await insertDeliveries(ctx.store.db, noticeRows);
    if (alerts.length > 0 || noticeRows.length > 0) this.kick();
  }

  private kick(): void {
    if (this.stopped) return;
    const p = this.worker
      .deliverDue()
      .catch((err) => this.ctx.log.error({ err }, 'webhook delivery round failed'))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }
}
