import type { AuditEventRecord } from '../audit/append.js';
import type { Policy } from '../policy/types.js';
import type { RaisedAlert } from './alert.js';
import type { DetectorOptions } from './detector-options.js';
import type { DetectorState } from './detector-state.js';
import type { EventFacts } from './event-facts.js';
import type { Detector } from './detectors/detector.js';
import { detectOffHours } from './detectors/off-hours.js';
import { detectFirstUse } from './detectors/first-use.js';
import { detectBreakGlass } from './detectors/break-glass.js';
import { detectDenialBurst } from './detectors/denial-burst.js';
import { detectRevokedTokenUse } from './detectors/revoked-token-use.js';
import { detectSelfApprovalAttempt } from './detectors/self-approval-attempt.js';

const DETECTORS: readonly Detector[] = [
  detectOffHours,
  detectFirstUse,
  detectBreakGlass,
  detectDenialBurst,
  detectRevokedTokenUse,
  detectSelfApprovalAttempt,
];

/** Audit event types any detector looks at; everything else is skipped before any lookup. */
export const DETECTED_EVENT_TYPES: ReadonlySet<string> = new Set([
  'request.created',
  'request.approved',
  'request.denied',
  'token.revoked_use',
  'request.self_approval_attempt',
]);

/**
 * Runs every detector over one committed audit event, threading the state
 * through them. Pure: the alerts to raise and the state to keep next.
 */
export function detect(
  event: AuditEventRecord,
  state: DetectorState,
  policy: Policy,
  facts: EventFacts,
  options: DetectorOptions,
): { alerts: RaisedAlert[]; state: DetectorState } {
  if (!DETECTED_EVENT_TYPES.has(event.type)) return { alerts: [], state };
  const alerts: RaisedAlert[] = [];
  let current = state;
  for (const d of DETECTORS) {
    const r = d({ event, state: current, policy, facts, options });
    alerts.push(...r.alerts);
    current = r.state;
  }
  return { alerts, state: current };
}
