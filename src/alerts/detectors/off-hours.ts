import { inWindow, wallClock } from '../../policy/calendar.js';
import type { Detector } from './detector.js';
import { highRiskScopes, maxRisk, principalOf, stringField, stringList } from './event-fields.js';

/**
 * `off_hours`: a high or critical scope is requested outside the policy's
 * `business_hours`, read in its `timezone` at the moment the request was filed.
 */
export const detectOffHours: Detector = ({ event, state, policy }) => {
  if (event.type !== 'request.created') return { alerts: [], state };
  const scopes = stringList(event.data.scopes);
  const risky = highRiskScopes(policy, scopes);
  if (risky.length === 0) return { alerts: [], state };
  const clock = wallClock(Date.parse(event.at), policy.timezone);
  if (inWindow(policy.businessHours, clock)) return { alerts: [], state };
  const local = `${clock.weekday} ${String(clock.hour).padStart(2, '0')}:${String(clock.minute).padStart(2, '0')}`;
  const principal = principalOf(event);
  const names = risky.map((r) => r.scope);
  return {
    state,
    alerts: [
      {
        type: 'off_hours',
        severity: maxRisk(risky.map((r) => r.risk)),
        at: event.at,
        principal,
        summary: `${principal ?? 'someone'} requested ${names.join(', ')} outside business hours (${local} ${policy.timezone})`,
        details: {
          request_id: stringField(event.data, 'requestId'),
          scopes: names,
          requested_scopes: scopes,
          resource: stringField(event.data, 'resource'),
          outcome: stringField(event.data, 'outcome'),
          local_time: local,
          timezone: policy.timezone,
        },
        eventSeq: event.seq,
      },
    ],
  };
};
