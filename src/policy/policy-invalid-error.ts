import { JitgateError } from '../util/errors.js';
import { countIssues, formatIssue, plural } from './format-issue.js';
import type { PolicyIssue } from './types.js';

const SHOWN = 20;

/** The policy file has errors; `issues` holds every finding, warnings included. */
export class PolicyInvalidError extends JitgateError {
  readonly issues: PolicyIssue[];

  constructor(source: string, issues: PolicyIssue[]) {
    const errors = issues.filter((i) => i.severity === 'error');
    const lines = errors.slice(0, SHOWN).map((i) => `  ${formatIssue(source, i)}`);
    if (errors.length > SHOWN) lines.push(`  … and ${errors.length - SHOWN} more`);
    super('policy_invalid', `policy ${source} is invalid: ${plural(countIssues(issues).errors, 'error')}\n${lines.join('\n')}`);
    this.name = 'PolicyInvalidError';
    this.issues = issues;
  }
}
