import type { Detector } from './detector.js';
import type { DenialTrack } from '../detector-state.js';
import { principalOf, stringField } from './event-fields.js';
import { boundedSet } from './bounded.js';

/**
 * `denial_burst`: `denialBurstCount` requests of one principal denied (by the
 * policy or by approvers) within `denialBurstWindowS`. Raised once per burst:
 * the burst stays open, and silent, until a whole window passes without
 * another denial of that principal.
 */
export const detectDenialBurst: Detector = ({ event, state, options }) => {
  if (event.type !== 'request.denied') return { alerts: [], state };
  const principal = principalOf(event);
  if (principal === null) return { alerts: [], state };
  const t = Date.parse(event.at);
  const windowMs = options.denialBurstWindowS * 1000;
  const prev = state.denials.get(principal) ?? { recent: [], burstLastMs: null };
  const put = (track: DenialTrack) => ({ ...state, denials: boundedSet(state.denials, principal, track, options.maxTracked) });

  if (prev.burstLastMs !== null && t - prev.burstLastMs < windowMs) {
    return { alerts: [], state: put({ recent: [], burstLastMs: Math.max(t, prev.burstLastMs) }) };
  }
  const recent = [...prev.recent.filter((x) => t - x < windowMs), t];
  if (recent.length < options.denialBurstCount) return { alerts: [], state: put({ recent, burstLastMs: null }) };

  const first = Math.min(...recent);
  return {
    state: put({ recent: [], burstLastMs: t }),
    alerts: [
      {
        type: 'denial_burst',
        severity: 'medium',
        at: event.at,
        principal,
        summary: `${recent.length} requests of ${principal} denied within ${Math.round(options.denialBurstWindowS / 60)} min`,
        details: {
          denials: recent.length,
          window_s: options.denialBurstWindowS,
          since: new Date(first).toISOString(),
          last_request_id: stringField(event.data, 'requestId'),
        },
        eventSeq: event.seq,
      },
    ],
  };
};
