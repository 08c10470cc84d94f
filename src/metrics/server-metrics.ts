/**
 * The server's metrics (docs/operations.md). Hot-path series are cells bound
 * once; everything else is read at scrape time. Grants and audit events are
 * counted from the audit log's `appended` announcements, so there is one
 * source of truth and no counting call in the code that makes the changes.
 */
import { Gauge, type Registry } from 'prom-client';
import type { AuditEventRecord } from '../audit/append.js';
import { CounterFamily, HistogramFamily, type CounterCell } from './families.js';
import { newRegistry } from './registry.js';

const OUTCOMES = ['approve', 'deny', 'stages', 'break_glass'] as const;
const GRANT_ENDS: Record<string, string> = { 'grant.expired': 'expired', 'grant.revoked': 'revoked', 'grant.released': 'released' };

export class ServerMetrics {
  readonly registry: Registry;
  readonly httpRequests: CounterFamily;
  readonly httpDuration: HistogramFamily;
  readonly tokensIssued: CounterFamily;
  readonly tokenErrors: CounterFamily;
  private readonly introspections: { active: CounterCell; inactive: CounterCell };
  private readonly decisions: Map<string, CounterCell>;
  private readonly grantsOpened: CounterCell;
  private readonly grantsEnded: CounterFamily;
  private readonly auditEvents: CounterFamily;
  private readonly auditCells = new Map<string, CounterCell>();
  private feedSubscribers: () => number = () => 0;

  constructor(registry: Registry = newRegistry()) {
    this.registry = registry;
    const r = registry;
    this.httpRequests = new CounterFamily(r, 'jitgate_http_requests_total', 'HTTP requests answered, by route pattern, method and status class', ['route', 'method', 'status']);
    this.httpDuration = new HistogramFamily(r, 'jitgate_http_request_duration_seconds', 'Time from request received to response sent, by route pattern and method', ['route', 'method']);
    this.tokensIssued = new CounterFamily(r, 'jitgate_tokens_issued_total', 'Access tokens issued by the token endpoint, by grant type', ['grant_type']);
    this.tokenErrors = new CounterFamily(r, 'jitgate_token_errors_total', 'Token endpoint refusals, by OAuth error code', ['error']);
    const intro = new CounterFamily(r, 'jitgate_introspections_total', 'Introspection answers, by whether the token was active', ['active']);
    this.introspections = { active: intro.cell('true'), inactive: intro.cell('false') };
    const decisions = new CounterFamily(r, 'jitgate_access_decisions_total', 'Policy decisions on access requests, by outcome', ['outcome']);
    this.decisions = new Map(OUTCOMES.map((o) => [o, decisions.cell(o)]));
    this.grantsOpened = new CounterFamily(r, 'jitgate_grants_opened_total', 'Grants created (an access request approved)', []).cell();
    this.grantsEnded = new CounterFamily(r, 'jitgate_grants_ended_total', 'Grants ended, by how: expired, revoked, released', ['how']);
    for (const how of Object.values(GRANT_ENDS)) this.grantsEnded.cell(how);
    this.auditEvents = new CounterFamily(r, 'jitgate_audit_events_total', 'Audit events appended by this node, by type', ['type']);
    const self = this;
    new Gauge({
      name: 'jitgate_revocation_feed_subscribers',
      help: 'Readers (gateways) connected to the revocation feed of this node',
      registers: [r],
      collect() {
        this.set(self.feedSubscribers());
      },
    });
  }

  /** Counts one policy decision on an access request. */
  decision(outcome: string): void {
    this.decisions.get(outcome)?.inc();
  }

  introspection(active: boolean): void {
    (active ? this.introspections.active : this.introspections.inactive).inc();
  }

  /** Where the subscriber gauge reads from (the running revocation feed). */
  readFeedSubscribers(fn: () => number): void {
    this.feedSubscribers = fn;
  }

  /** Counts committed audit events; wire to AuditLog's `appended`. */
  readonly onAuditAppended = (records: readonly AuditEventRecord[]): void => {
    for (const rec of records) {
      let cell = this.auditCells.get(rec.type);
      if (!cell) this.auditCells.set(rec.type, (cell = this.auditEvents.cell(rec.type)));
      cell.inc();
      if (rec.type === 'grant.created') this.grantsOpened.inc();
      else {
        const how = GRANT_ENDS[rec.type];
        if (how) this.grantsEnded.cell(how).inc();
      }
    }
  };
}
