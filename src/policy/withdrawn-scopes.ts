import type { Policy } from './types.js';
import { baselineScopes } from '../access/entitlements.js';
import { eligibleScopes } from '../access/eligibility.js';

/**
 * What a policy change takes away (pure): per principal of the previous
 * policy, the scopes it held as baseline and holds no more, and the scopes
 * it was eligible for and is neither eligible for nor holds now. These are
 * the scopes whose tokens stop being active when `next` replaces `prev`.
 * A scope moved from eligible to baseline is not withdrawn; one moved from
 * baseline to eligible is (its standing tokens end). `nowS` decides which
 * exceptions are live, the same instant for both policies.
 * Principals and scopes come out sorted; principals losing nothing are left out.
 */
export function withdrawnScopes(prev: Policy, next: Policy, nowS: number): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const principal of [...principalsOf(prev)].sort()) {
    const oldBaseline = baselineScopes(prev, principal);
    const newBaseline = baselineScopes(next, principal);
    const newEligible = eligibleScopes(next, principal, nowS).scopes;
    const lost = new Set<string>();
    for (const s of oldBaseline) if (!newBaseline.has(s)) lost.add(s);
    for (const s of eligibleScopes(prev, principal, nowS).scopes) {
      if (!newEligible.has(s) && !newBaseline.has(s)) lost.add(s);
    }
    if (lost.size > 0) out.set(principal, [...lost].sort());
  }
  return out;
}

/** Every principal a policy gives anything: group members, clients, holders of exceptions. */
function principalsOf(policy: Policy): Set<string> {
  const out = new Set<string>(policy.groupsOf.keys());
  for (const id of policy.clients.keys()) out.add(`client:${id}`);
  for (const e of policy.exceptions) out.add(e.principal);
  return out;
}
