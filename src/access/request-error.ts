/**
 * Why an access request was refused before any rule looked at it. The code is
 * stable (clients and tests match on it); the status follows the kind of
 * fault: 400 the body is malformed, 403 the principal may not ask for this,
 * 422 the request is well formed but cannot be granted as asked.
 */

export const REQUEST_ERROR_STATUS = {
  /** Not a JSON object, an unknown key, a value of the wrong type or shape. */
  body_invalid: 400,
  bundle_and_scopes: 400,
  scopes_required: 400,
  duration_invalid: 400,
  scope_unknown: 422,
  bundle_unknown: 422,
  not_eligible: 403,
  outside_allowed_hours: 403,
  reason_required: 422,
  ticket_required: 422,
  ticket_invalid: 422,
  duration_too_long: 422,
  starts_at_invalid: 422,
  resource_unknown: 422,
  resource_ambiguous: 422,
  resource_rejects_scope: 422,
} as const;

export type RequestErrorCode = keyof typeof REQUEST_ERROR_STATUS;
export type RequestErrorStatus = (typeof REQUEST_ERROR_STATUS)[RequestErrorCode];

export interface RequestError {
  code: RequestErrorCode;
  status: RequestErrorStatus;
  /** For the requester: what is wrong and what would be accepted. */
  message: string;
  /** The request field at fault (`duration`, `context.branch`), when one is. */
  field?: string;
  /** `not_eligible`: the scopes the principal may request. */
  eligible?: string[];
  /** `not_eligible`: the bundles the principal may request. */
  eligibleBundles?: string[];
  /** `not_eligible`, `scope_unknown`, `resource_rejects_scope`, `outside_allowed_hours`: the scopes at fault. */
  scopes?: string[];
  /** `duration_too_long`: the longest duration allowed, seconds. */
  maxS?: number;
  /** `resource_ambiguous`, `resource_rejects_scope`, `resource_unknown`: resources that accept every requested scope. */
  candidates?: string[];
}

/** A RequestError with the status its code implies. */
export function requestError(
  code: RequestErrorCode,
  message: string,
  details: Omit<RequestError, 'code' | 'status' | 'message'> = {},
): RequestError {
  return { code, status: REQUEST_ERROR_STATUS[code], message, ...details };
}
