/**
 * Standing and requestable access nobody used: the input of an access
 * review. Pure: the policy in force and the recorded last uses in, rows out.
 */
import type { Policy } from '../policy/types.js';
import { baselineScopes } from '../access/entitlements.js';
import { eligibleScopes } from '../access/eligibility.js';

export type HoldingKind = 'baseline' | 'eligible';

/** A scope a principal holds (baseline) or may request (eligible) with no recorded use since the window's start. */
export interface UnusedScope {
  principal: string;
  scope: string;
  kind: HoldingKind;
  /** Epoch seconds of the last recorded use (before the window), or null: never. */
  lastUsed: number | null;
  /**
   * Whether a gateway would record its use at all: some resource with an
   * `upstream` has a route needing it. Scopes of jitgate's own API, or of
   * resources no gateway serves, are never recorded, so "never" says
   * nothing about them.
   */
  observed: boolean;
}

/** Every principal the policy names: group members, clients and holders of exceptions, sorted. */
export function policyPrincipals(policy: Policy): string[] {
  const out = new Set<string>(policy.groupsOf.keys());
  for (const id of policy.clients.keys()) out.add(`client:${id}`);
  for (const e of policy.exceptions) out.add(e.principal);
  return [...out].sort();
}

/** Scopes some gateway-served route requires: the only ones whose use is ever recorded. */
export function observedScopes(policy: Policy): Set<string> {
  const out = new Set<string>();
  for (const r of policy.resources.values()) {
    if (r.upstream === null) continue;
    for (const route of r.routes) for (const s of route.scopes) out.add(s);
  }
  return out;
}

/**
 * For every principal of the policy, its baseline scopes and the scopes it
 * is eligible for at `nowS` (groups, its client entry, live exceptions)
 * whose last use, over all resources, is before `sinceS` or absent.
 * `lastUses` maps `principal\nscope` to epoch seconds. Sorted by principal,
 * then baseline before eligible, then scope.
 */
export function unusedScopes(policy: Policy, lastUses: ReadonlyMap<string, number>, sinceS: number, nowS: number): UnusedScope[] {
  const observed = observedScopes(policy);
  const out: UnusedScope[] = [];
  for (const principal of policyPrincipals(policy)) {
    const baseline = baselineScopes(policy, principal);
    const eligible = eligibleScopes(policy, principal, nowS).scopes;
    const held: [string, HoldingKind][] = [
      ...[...baseline].sort().map((s): [string, HoldingKind] => [s, 'baseline']),
      // A scope held as baseline needs no request: it is reviewed as baseline.
      ...[...eligible].filter((s) => !baseline.has(s)).sort().map((s): [string, HoldingKind] => [s, 'eligible']),
    ];
    for (const [scope, kind] of held) {
      const last = lastUses.get(`${principal}\n${scope}`) ?? null;
      if (last !== null && last >= sinceS) continue;
      out.push({ principal, scope, kind, lastUsed: last, observed: observed.has(scope) });
    }
  }
  return out;
}
