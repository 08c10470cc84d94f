import type { AuditEventRecord } from '../../audit/append.js';
import type { Policy } from '../../policy/types.js';
import type { RaisedAlert } from '../alert.js';
import type { DetectorOptions } from '../detector-options.js';
import type { DetectorState } from '../detector-state.js';
import type { EventFacts } from '../event-facts.js';

/** Everything a detector may look at. Time is the event's own `at`, so replaying events gives the same alerts. */
export interface DetectorInput {
  event: AuditEventRecord;
  state: DetectorState;
  policy: Policy;
  facts: EventFacts;
  options: DetectorOptions;
}

export interface DetectorResult {
  alerts: RaisedAlert[];
  state: DetectorState;
}

/** A pure function: the same input gives the same alerts and state, and the input is left as it was. */
export type Detector = (input: DetectorInput) => DetectorResult;
