import type { NewAuditEvent } from './append.js';

export const KEY_ROTATED_EVENT = 'key.rotated';

/**
 * `key.rotated`: a new signing key, from when it signs (epoch seconds), and
 * the key it takes over from with when that one leaves the JWKS. Public
 * facts only: kids are thumbprints of public keys.
 */
export function keyRotatedEvent(
  kid: string,
  signsFrom: number,
  previous: { kid: string; publishUntil: number } | null,
): NewAuditEvent {
  return {
    type: KEY_ROTATED_EVENT,
    actor: null,
    subject: null,
    data: {
      kid,
      signs_from: signsFrom,
      previous_kid: previous?.kid ?? null,
      previous_publish_until: previous?.publishUntil ?? null,
    },
  };
}
