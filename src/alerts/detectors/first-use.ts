import type { Detector } from './detector.js';
import { highRiskScopes, maxRisk, principalOf, stringField, stringList } from './event-fields.js';
import { boundedAdd } from './bounded.js';

/**
 * `first_use`: a principal asks for a high or critical scope it never held
 * through a grant. Which scopes it held comes from the store (facts); without
 * that fact nothing is raised rather than guessed. Each (principal, scope)
 * is reported once while remembered, however often it is asked for before a
 * grant exists.
 */
export const detectFirstUse: Detector = ({ event, state, policy, facts, options }) => {
  if (event.type !== 'request.created' || !facts.heldBefore) return { alerts: [], state };
  const principal = principalOf(event);
  if (principal === null) return { alerts: [], state };
  const held = facts.heldBefore;
  const fresh = highRiskScopes(policy, stringList(event.data.scopes)).filter(
    (r) => !held.has(r.scope) && !state.firstUseReported.has(pairKey(principal, r.scope)),
  );
  if (fresh.length === 0) return { alerts: [], state };
  const names = fresh.map((r) => r.scope);
  const reported = boundedAdd(state.firstUseReported, names.map((s) => pairKey(principal, s)), options.maxTracked);
  return {
    state: { ...state, firstUseReported: reported },
    alerts: [
      {
        type: 'first_use',
        severity: maxRisk(fresh.map((r) => r.risk)),
        at: event.at,
        principal,
        summary: `${principal} asked for ${names.join(', ')} for the first time`,
        details: {
          request_id: stringField(event.data, 'requestId'),
          scopes: names,
          resource: stringField(event.data, 'resource'),
          outcome: stringField(event.data, 'outcome'),
        },
        eventSeq: event.seq,
      },
    ],
  };
};

function pairKey(principal: string, scope: string): string {
  return `${principal} ${scope}`;
}
