import { randomBytes } from 'node:crypto';

/** Opaque ids like the access module's: `al_…` for alerts, `whd_…` for webhook deliveries. */
export function newAlertsId(prefix: 'al' | 'whd'): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
