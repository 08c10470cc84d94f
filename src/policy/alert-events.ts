/**
 * Alert kinds a webhook may subscribe to; each is raised by one detector.
 * `*` subscribes to every kind, present and future.
 */
export const ALERT_EVENTS = [
  'off_hours',
  'first_use',
  'break_glass',
  'denial_burst',
  'revoked_token_use',
  '*',
] as const;

export type AlertEvent = (typeof ALERT_EVENTS)[number];
