import { loadPolicyFile } from '../policy/load.js';
import { formatIssue } from '../policy/format-issue.js';
import type { Policy } from '../policy/types.js';

/** Loads the policy for a server; prints every finding and returns null when it has errors. */
export async function loadPolicyForServer(path: string): Promise<Policy | null> {
  const { policy, issues } = await loadPolicyFile(path, { now: Math.floor(Date.now() / 1000) });
  for (const issue of issues) process.stderr.write(`${formatIssue(path, issue)}\n`);
  if (!policy) process.stderr.write(`jitgate: ${path} has errors; not starting\n`);
  return policy;
}
