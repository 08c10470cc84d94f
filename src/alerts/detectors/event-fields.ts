import type { AuditEventRecord } from '../../audit/append.js';
import { RISK_ORDER, type Policy, type Risk } from '../../policy/types.js';

/** A list of strings from event data; anything else reads as empty, since events are data from storage. */
export function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function stringField(data: Record<string, unknown>, key: string): string | null {
  const v = data[key];
  return typeof v === 'string' ? v : null;
}

/** The principal an event concerns: its subject, else its actor. */
export function principalOf(e: AuditEventRecord): string | null {
  return e.subject ?? e.actor;
}

/** Scopes the policy rates high or critical, in the order given. A scope the policy no longer knows is not rated. */
export function highRiskScopes(policy: Policy, scopes: readonly string[]): { scope: string; risk: Risk }[] {
  const out: { scope: string; risk: Risk }[] = [];
  for (const scope of scopes) {
    const risk = policy.scopes.get(scope)?.risk;
    if (risk === 'high' || risk === 'critical') out.push({ scope, risk });
  }
  return out;
}

export function maxRisk(risks: readonly Risk[]): Risk {
  let best: Risk = 'low';
  for (const r of risks) if (RISK_ORDER.indexOf(r) > RISK_ORDER.indexOf(best)) best = r;
  return best;
}
