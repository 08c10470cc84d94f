/**
 * What a webhook may subscribe to: alert kinds, each raised by one detector,
 * and `request.pending`, the notice to approvers that a request waits for
 * them. `*` subscribes to every alert kind, present and future; approver
 * notices go only to webhooks that name `request.pending`, so an alert
 * channel is not flooded with routine approvals.
 */
export const ALERT_EVENTS = [
  'off_hours',
  'first_use',
  'break_glass',
  'denial_burst',
  'revoked_token_use',
  'self_approval_attempt',
  'request.pending',
  '*',
] as const;

export type AlertEvent = (typeof ALERT_EVENTS)[number];
