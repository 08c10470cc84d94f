import type { Policy } from '../policy/types.js';

/**
 * What a principal holds without asking: the baseline scopes of every group
 * it belongs to and, for `client:` principals, the client entry's baseline.
 * Pure: the current policy in, a set out; recomputed at every check so that a
 * policy reload takes effect at once.
 */
export function baselineScopes(policy: Policy, principal: string): ReadonlySet<string> {
  let memo = baselineMemo.get(policy);
  if (!memo) baselineMemo.set(policy, (memo = new Map()));
  let set = memo.get(principal);
  if (!set) {
    set = computeBaseline(policy, principal);
    // Bounded: a flood of unknown principals must not grow it without end.
    if (memo.size > 100_000) memo.clear();
    memo.set(principal, set);
  }
  return set;
}

// A loaded Policy never changes (a reload makes a new object), so its answers can be kept with it.
const baselineMemo = new WeakMap<Policy, Map<string, ReadonlySet<string>>>();

function computeBaseline(policy: Policy, principal: string): Set<string> {
  const out = new Set<string>();
  for (const name of policy.groupsOf.get(principal) ?? []) {
    const group = policy.groups.get(name);
    if (group) for (const s of group.baseline) out.add(s);
  }
  if (principal.startsWith('client:')) {
    const client = policy.clients.get(principal.slice('client:'.length));
    if (client) for (const s of client.baseline) out.add(s);
  }
  return out;
}

/**
 * Whether the policy knows the principal: a declared client, a member of a
 * group, or the holder of an exception. Unknown principals get no token.
 */
export function principalKnown(policy: Policy, principal: string): boolean {
  if (principal.startsWith('client:') && policy.clients.has(principal.slice('client:'.length))) return true;
  return policy.groupsOf.has(principal) || policy.exceptions.some((e) => e.principal === principal);
}
