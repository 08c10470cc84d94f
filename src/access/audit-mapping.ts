import type { DomainEvent } from './events.js';
import type { NewAuditEvent } from '../audit/append.js';

/**
 * A domain event as an audit record: `actor` is who acted (null for the
 * policy or the clock), `subject` the principal whose access it concerns,
 * `data` the rest, with instants in ms so the record keeps the event's own time.
 */
export function auditRecordOf(e: DomainEvent, subject: string): NewAuditEvent {
  const { type, at, ...rest } = e as DomainEvent & Record<string, unknown>;
  const actor =
    'by' in e && typeof e.by === 'string'
      ? e.by
      : e.type === 'request.created'
        ? e.requester
        : null;
  return { type, actor, subject, data: rest, atMs: at * 1000 };
}
