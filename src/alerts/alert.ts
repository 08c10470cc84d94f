import { ALERT_EVENTS, type AlertEvent } from '../policy/alert-events.js';
import type { Risk } from '../policy/types.js';

/** The kinds of alert detectors raise: every subscribable name except the wildcard and the approver notice. */
export type AlertType = Exclude<AlertEvent, '*' | 'request.pending'>;

export const ALERT_TYPES: readonly AlertType[] = ALERT_EVENTS.filter(
  (e): e is AlertType => e !== '*' && e !== 'request.pending',
);

export function isAlertType(s: string): s is AlertType {
  return (ALERT_TYPES as readonly string[]).includes(s);
}

/** Alerts reuse the scale of scope risk, so one vocabulary orders both. */
export type Severity = Risk;

/** What a detector raises: pure data, before it has an id or a place in the audit chain. */
export interface RaisedAlert {
  type: AlertType;
  severity: Severity;
  /** RFC 3339: when the event that raised it happened (not when it was detected). */
  at: string;
  /** Whose behaviour it is about. */
  principal: string | null;
  /** One line for people. */
  summary: string;
  /** Machine-readable facts, snake_case, no secrets. */
  details: Record<string, unknown>;
  /** Seq of the audit event that raised it. */
  eventSeq: number;
}

/** A stored alert as GET /api/v1/alerts and webhooks show it. */
export interface AlertView {
  id: string;
  /** Seq of its `alert.raised` audit event: the cursor of `?after=`. */
  seq: number;
  type: AlertType;
  severity: Severity;
  at: string;
  principal: string | null;
  summary: string;
  details: Record<string, unknown>;
  event_seq: number;
}
