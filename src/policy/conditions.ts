/** Compiles every rule's `when` once, reporting the ones that do not compile. */
import { compileCondition } from './cel.js';
import type { Finding } from './finding.js';
import { error } from './finding.js';
import type { CompiledCondition } from './types.js';

/** One entry per rule, in file order: its compiled condition, or null when it has none or it failed. */
export function compileRuleConditions(rules: readonly { when?: string | undefined }[]): {
  conditions: (CompiledCondition | null)[];
  findings: Finding[];
} {
  const findings: Finding[] = [];
  const conditions = rules.map((rule, i) => {
    if (rule.when === undefined) return null;
    const result = compileCondition(rule.when);
    if (result.ok) return result.condition;
    findings.push(
      error(['rules', i, 'when'], `condition does not compile: ${result.message}`, {
        ...(result.offset !== null ? { valueOffset: result.offset } : {}),
      }),
    );
    return null;
  });
  return { conditions, findings };
}
