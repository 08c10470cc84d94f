import type { Detector } from './detector.js';
import { principalOf, stringField } from './event-fields.js';

/** `revoked_token_use`: a token that was revoked, or whose grant was revoked or released, was presented again. */
export const detectRevokedTokenUse: Detector = ({ event, state }) => {
  if (event.type !== 'token.revoked_use') return { alerts: [], state };
  const principal = principalOf(event);
  const cause = stringField(event.data, 'cause');
  const where = stringField(event.data, 'presented_at');
  return {
    state,
    alerts: [
      {
        type: 'revoked_token_use',
        severity: 'high',
        at: event.at,
        principal,
        summary: `a ${cause === 'token_revoked' ? 'revoked token' : `token of a ${cause === 'grant_released' ? 'released' : 'revoked'} grant`} of ${principal ?? 'someone'} was presented${where ? ` at ${where === 'api' ? 'the REST API' : where === 'gateway' ? 'a gateway' : where}` : ''}`,
        details: {
          jti: stringField(event.data, 'jti'),
          client_id: stringField(event.data, 'client_id'),
          grant_id: stringField(event.data, 'grant_id'),
          cause,
          presented_at: where,
        },
        eventSeq: event.seq,
      },
    ],
  };
};
