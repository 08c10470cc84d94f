import type { WebhookDef } from '../policy/types.js';
import type { AlertType } from './alert.js';

/**
 * The webhooks an alert or notice goes to: those naming it, and for alerts
 * those subscribed to `*`. Approver notices are opt-in by name only.
 */
export function webhooksFor(webhooks: readonly WebhookDef[], event: AlertType | 'request.pending'): WebhookDef[] {
  return webhooks.filter((w) => w.events.includes(event) || (event !== 'request.pending' && w.events.includes('*')));
}
