/**
 * The decision engine: an access request and the policy in force → approve,
 * deny, break-glass or approval stages. Pure and synchronous; time and the
 * requester's history are passed in. Rules are tried in file order and the
 * first that matches decides; `default_decision` applies when none does.
 *
 * A condition that cannot be evaluated never widens access: an approve or
 * break-glass rule whose condition fails does not match, a deny rule whose
 * condition fails does match, and a stages rule whose condition fails denies
 * (it cannot be trusted to pick the right approvers).
 */
import { inWindow, wallClock } from './calendar.js';
import type { ApprovalStageDef, Policy, Risk, RuleDef } from './types.js';
import { RISK_ORDER } from './types.js';

export type DecisionOutcome = 'approve' | 'deny' | 'break_glass' | 'stages';

/** What the engine decides on: a validated access request (NormalizedRequest fits). */
export interface DecisionFacts {
  principal: string;
  scopes: readonly string[];
  resource: string;
  durationS: number;
  reason: string;
  ticket: string | null;
  /** Caller-supplied JSON (`request.context` in conditions). */
  context: Readonly<Record<string, unknown>>;
}

/** What the principal held before: for each scope, how many grants it has had. */
export interface History {
  timesHeld: ReadonlyMap<string, number>;
}

export const NO_HISTORY: History = { timesHeld: new Map() };

export interface Decision {
  /** Name of the rule that decided; null when the default decision applied. */
  rule: string | null;
  outcome: DecisionOutcome;
  /** The approval chain when outcome is `stages`, else null. */
  stages: ApprovalStageDef[] | null;
  /** For the requester: what was decided and why. */
  message: string;
  /** Hash of the policy that decided. */
  policy_hash: string;
  /** Every condition that could not be evaluated in this decision, and why. */
  condition_error?: string;
}

interface CompiledRule {
  def: RuleDef;
  principals: Set<string> | null;
  groups: Set<string> | null;
  scopes: Set<string> | null;
  risk: Set<Risk> | null;
}

// Sets built once per loaded policy; a reload brings a new Policy object, so entries never go stale.
const compiledRules = new WeakMap<Policy, CompiledRule[]>();

function rulesOf(policy: Policy): CompiledRule[] {
  let rules = compiledRules.get(policy);
  if (!rules) {
    const set = <T>(list: readonly T[] | null): Set<T> | null => (list === null ? null : new Set(list));
    rules = policy.rules.map((def) => ({
      def,
      principals: set(def.match.principals),
      groups: set(def.match.groups),
      scopes: set(def.match.scopes),
      risk: set(def.match.risk),
    }));
    compiledRules.set(policy, rules);
  }
  return rules;
}

const NO_GROUPS: readonly string[] = [];

/**
 * Decides on `facts` under `policy` at `now`. Match fields of a rule must all
 * hold: `principals` names the requester, `groups` shares a group with it,
 * `scopes` contains ANY requested scope, `risk` contains the highest risk
 * among the requested scopes. Then its `when` condition must be true.
 */
export function decide(policy: Policy, facts: DecisionFacts, now: { epochMs: number }, history: History): Decision {
  const groups = policy.groupsOf.get(facts.principal) ?? NO_GROUPS;

  let highest = 0;
  for (const s of facts.scopes) {
    const def = policy.scopes.get(s);
    // The policy may have been reloaded since the request was validated.
    if (!def) return finish(policy, null, 'deny', null, `scope "${s}" is not in the policy in force`, []);
    const r = RISK_ORDER.indexOf(def.risk);
    if (r > highest) highest = r;
  }
  const maxRisk = RISK_ORDER[highest] ?? 'low';

  let context: Record<string, unknown> | null = null;
  const failures: string[] = [];

  for (const rule of rulesOf(policy)) {
    if (!matches(rule, facts, groups, maxRisk)) continue;
    const def = rule.def;
    if (def.condition !== null) {
      context ??= celContext(policy, facts, groups, maxRisk, now, history);
      const result = evaluate(def, context);
      if (result === false) continue;
      if (result !== true) {
        failures.push(`rule "${def.name}": condition \`${def.when}\` could not be evaluated: ${result.error}`);
        if (def.decision === 'deny') {
          return finish(policy, def.name, 'deny', null, `denied by rule "${def.name}" because its condition could not be evaluated, which counts as a match for a deny rule`, failures);
        }
        if (def.stages !== null) {
          return finish(policy, def.name, 'deny', null, `denied: rule "${def.name}" requires approval, but its condition could not be evaluated, so the approvers it names cannot be relied on`, failures);
        }
        continue;
      }
    }
    if (def.stages !== null) {
      return finish(policy, def.name, 'stages', def.stages, `rule "${def.name}" requires approval: ${describeStages(def.stages)}`, failures);
    }
    switch (def.decision) {
      case 'approve':
        return finish(policy, def.name, 'approve', null, `approved by rule "${def.name}"`, failures);
      case 'break_glass':
        return finish(policy, def.name, 'break_glass', null, `break-glass access under rule "${def.name}": granted at once and reviewed afterwards`, failures);
      default: {
        const why = def.when === null ? '' : ` (its condition holds: ${def.when})`;
        return finish(policy, def.name, 'deny', null, `denied by rule "${def.name}"${why}`, failures);
      }
    }
  }

  const outcome = policy.defaultDecision;
  return finish(policy, null, outcome, null, `no rule matched; the policy's default decision is ${outcome}`, failures);
}

function matches(rule: CompiledRule, facts: DecisionFacts, groups: readonly string[], maxRisk: Risk): boolean {
  if (rule.principals !== null && !rule.principals.has(facts.principal)) return false;
  if (rule.risk !== null && !rule.risk.has(maxRisk)) return false;
  if (rule.groups !== null && !someIn(groups, rule.groups)) return false;
  if (rule.scopes !== null && !someIn(facts.scopes, rule.scopes)) return false;
  return true;
}

function someIn(list: readonly string[], set: Set<string>): boolean {
  for (const x of list) if (set.has(x)) return true;
  return false;
}

/**
 * The variables conditions see. Integers are BigInt, CEL's `int`, so
 * `now.hour >= 9` and `request.duration_s / 60` behave as written; values
 * from `request.context` keep their JSON types (numbers are `double`).
 */
function celContext(
  policy: Policy,
  facts: DecisionFacts,
  groups: readonly string[],
  maxRisk: Risk,
  now: { epochMs: number },
  history: History,
): Record<string, unknown> {
  const clock = wallClock(now.epochMs, policy.timezone);
  const timesHeld = new Map<string, bigint>();
  for (const [scope, n] of history.timesHeld) timesHeld.set(scope, BigInt(Math.max(0, Math.trunc(n))));
  let firstTime = true;
  for (const s of facts.scopes) {
    const n = timesHeld.get(s);
    if (n === undefined) timesHeld.set(s, 0n);
    else if (n > 0n) firstTime = false;
  }
  return {
    request: {
      principal: facts.principal,
      groups: [...groups],
      scopes: [...facts.scopes],
      max_risk: maxRisk,
      duration_s: BigInt(facts.durationS),
      reason: facts.reason,
      ticket: facts.ticket,
      resource: facts.resource,
      context: facts.context,
    },
    now: {
      hour: BigInt(clock.hour),
      minute: BigInt(clock.minute),
      weekday: clock.weekday,
      business_hours: inWindow(policy.businessHours, clock),
    },
    history: { times_held: timesHeld, first_time: firstTime },
  };
}

/** true, false, or why the condition has no boolean value. */
function evaluate(def: RuleDef, context: Record<string, unknown>): boolean | { error: string } {
  let value: unknown;
  try {
    value = def.condition!.evaluate(context);
  } catch (err) {
    return { error: describeError(err) };
  }
  if (typeof value === 'boolean') return value;
  return { error: `it yields ${describeValue(value)}, not true or false` };
}

function describeError(err: unknown): string {
  const e = (err ?? {}) as { summary?: unknown; message?: unknown };
  if (typeof e.summary === 'string' && e.summary !== '') return e.summary;
  const message = typeof e.message === 'string' ? e.message : String(err);
  return message.split('\n')[0] || 'evaluation failed';
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return `the int ${value}`;
  if (typeof value === 'number') return `the double ${value}`;
  if (typeof value === 'string') return 'a string';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value === 'object' ? 'map' : typeof value}`;
}

function describeStages(stages: readonly ApprovalStageDef[]): string {
  return stages
    .map((s) => `${s.count} approval${s.count === 1 ? '' : 's'} from ${s.approvers.join(' or ')}`)
    .join(', then ');
}

function finish(
  policy: Policy,
  rule: string | null,
  outcome: DecisionOutcome,
  stages: ApprovalStageDef[] | null,
  message: string,
  failures: readonly string[],
): Decision {
  const decision: Decision = { rule, outcome, stages, message, policy_hash: policy.hash };
  if (failures.length > 0) {
    const joined = failures.join('; ');
    decision.condition_error = joined;
    if (!message.includes('could not be evaluated')) decision.message = `${message} (skipped: ${joined})`;
    else decision.message = `${message}: ${joined}`;
  }
  return decision;
}
