import type { RequestState } from '../access/request-machine.js';

/**
 * What the edge looked up in the store for one audit event, so detectors and
 * notices stay pure. Each field is present only for the events that need it.
 */
export interface EventFacts {
  /**
   * `request.created` of a high-risk scope: which of the high-risk scopes
   * asked for the principal held through a grant before this request (its
   * own grant left out). Other scopes are not looked up.
   */
  heldBefore?: ReadonlySet<string>;
  /** Request events that need more than the event carries: the request as stored now. */
  request?: RequestFacts;
}

export interface RequestFacts {
  id: string;
  requester: string;
  scopes: string[];
  resource: string;
  durationS: number;
  reason: string;
  ticket: string | null;
  state: RequestState;
}
