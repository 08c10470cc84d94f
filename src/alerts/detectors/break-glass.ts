import type { Detector } from './detector.js';
import { principalOf, stringField } from './event-fields.js';

/** `break_glass`: a request approved by a break-glass rule, access granted at once without approvers. */
export const detectBreakGlass: Detector = ({ event, state, facts }) => {
  if (event.type !== 'request.approved' || event.data.breakGlass !== true) return { alerts: [], state };
  const principal = principalOf(event);
  const req = facts.request;
  const grant = event.data.grant as { startsAt?: unknown; endsAt?: unknown } | undefined;
  const iso = (s: unknown) => (typeof s === 'number' ? new Date(s * 1000).toISOString() : null);
  const scopes = req?.scopes ?? [];
  return {
    state,
    alerts: [
      {
        type: 'break_glass',
        severity: 'critical',
        at: event.at,
        principal,
        summary: `break-glass access${scopes.length ? ` to ${scopes.join(', ')}` : ''} granted to ${principal ?? 'someone'}`,
        details: {
          request_id: stringField(event.data, 'requestId'),
          scopes,
          resource: req?.resource ?? null,
          reason: req?.reason ?? null,
          ticket: req?.ticket ?? null,
          starts_at: iso(grant?.startsAt),
          ends_at: iso(grant?.endsAt),
        },
        eventSeq: event.seq,
      },
    ],
  };
};
