/**
 * What a principal may ask for. Recomputed from the policy in force at every
 * request, so removing someone from a group or letting an exception lapse
 * takes effect at the next request without any cleanup.
 */
import type { Policy } from '../policy/types.js';
import { didYouMean } from '../policy/suggest.js';
import { requestError, type RequestError } from './request-error.js';

export interface Eligibility {
  /** Every scope the principal may request. */
  scopes: Set<string>;
  /** Bundles whose scopes are all eligible, sorted: the bundles it may request by name. */
  bundles: string[];
}

/**
 * The scopes a principal may request at `nowS` (epoch seconds): the
 * `eligible` scopes and bundles of its groups, of its client entry (for
 * `client:` principals), and the scopes of its exceptions that are still live
 * (an exception is live strictly before its `expiresAt`). Baseline scopes are
 * not eligible: they are held already and never need a request.
 */
export function eligibleScopes(policy: Policy, principal: string, nowS: number): Eligibility {
  const scopes = new Set<string>();
  for (const name of policy.groupsOf.get(principal) ?? []) {
    const group = policy.groups.get(name);
    if (group) for (const s of group.eligible) scopes.add(s);
  }
  if (principal.startsWith('client:')) {
    const client = policy.clients.get(principal.slice('client:'.length));
    if (client) for (const s of client.eligible) scopes.add(s);
  }
  for (const e of policy.exceptions) {
    if (e.principal === principal && nowS < e.expiresAt) for (const s of e.scopes) scopes.add(s);
  }
  const bundles: string[] = [];
  for (const [name, members] of policy.bundles) {
    if (members.length > 0 && members.every((s) => scopes.has(s))) bundles.push(name);
  }
  bundles.sort();
  return { scopes, bundles };
}

export interface RequestedScopes {
  scopes?: readonly string[] | undefined;
  bundle?: string | undefined;
}

export type ExpandResult =
  | { ok: true; scopes: string[]; bundle: string | null }
  | { ok: false; error: RequestError };

/**
 * The scopes a request names: its `scopes` (duplicates dropped, order kept) or
 * the scopes of its `bundle`. Exactly one of the two must be given, and every
 * name must be known to the policy.
 */
export function expandRequest(policy: Policy, input: RequestedScopes): ExpandResult {
  const hasScopes = input.scopes !== undefined;
  const hasBundle = input.bundle !== undefined;
  if (hasScopes && hasBundle) {
    return fail(requestError('bundle_and_scopes', 'give either scopes or bundle, not both'));
  }
  if (hasBundle) {
    const name = input.bundle as string;
    const members = policy.bundles.get(name);
    if (!members) {
      return fail(
        requestError('bundle_unknown', `no bundle "${name}" in the policy${didYouMean(name, policy.bundles.keys())}`, {
          field: 'bundle',
        }),
      );
    }
    return { ok: true, scopes: [...members], bundle: name };
  }
  const scopes = [...new Set(input.scopes ?? [])];
  if (scopes.length === 0) {
    return fail(requestError('scopes_required', 'name the scopes to request (scopes: [...]) or a bundle (bundle: "...")'));
  }
  const unknown = scopes.filter((s) => !policy.scopes.has(s));
  if (unknown.length > 0) {
    const hints = unknown.map((s) =>
      policy.bundles.has(s)
        ? `"${s}" is a bundle: send it as bundle, not in scopes`
        : `"${s}"${didYouMean(s, policy.scopes.keys())}`,
    );
    return fail(
      requestError('scope_unknown', `unknown scope${unknown.length > 1 ? 's' : ''}: ${hints.join(', ')}`, {
        field: 'scopes',
        scopes: unknown,
      }),
    );
  }
  return { ok: true, scopes, bundle: null };
}

function fail(error: RequestError): ExpandResult {
  return { ok: false, error };
}
