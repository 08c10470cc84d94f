import type { Detector } from './detector.js';
import { principalOf, stringField, stringList } from './event-fields.js';

/** `self_approval_attempt`: a requester tried to approve their own request (the approval was refused). */
export const detectSelfApprovalAttempt: Detector = ({ event, state }) => {
  if (event.type !== 'request.self_approval_attempt') return { alerts: [], state };
  const principal = event.actor ?? principalOf(event);
  const scopes = stringList(event.data.scopes);
  return {
    state,
    alerts: [
      {
        type: 'self_approval_attempt',
        severity: 'high',
        at: event.at,
        principal,
        summary: `${principal ?? 'someone'} tried to approve their own request${scopes.length ? ` for ${scopes.join(', ')}` : ''}`,
        details: { request_id: stringField(event.data, 'requestId'), scopes },
        eventSeq: event.seq,
      },
    ],
  };
};
