/** `jitgate policy check FILE`: validates a policy file like a compiler would. */
import type { Command } from 'commander';
import { countIssues, formatIssue, plural } from '../policy/format-issue.js';

/** Where the verb writes; the process's stdout unless a caller (a test) says otherwise. */
export interface PolicyCliIo {
  out: (text: string) => void;
}

const stdoutIo: PolicyCliIo = { out: (text) => process.stdout.write(text) };

export function register(program: Command, io: PolicyCliIo = stdoutIo): void {
  const policy =
    program.commands.find((c) => c.name() === 'policy') ??
    program.command('policy').description('work with the policy file');

  policy
    .command('check')
    .description('validate a policy file: every finding names its key path and line')
    .argument('<file>', 'the policy file (YAML)')
    .option('--json', 'print the result as JSON for scripts')
    .addHelpText(
      'after',
      `
Findings are printed like a compiler's, one per line, then a summary:
  policy.yaml:18:59 error groups.engineers.elegible: unknown key "elegible" (did you mean "eligible"?)
  policy invalid: 1 error, 0 warnings

Exits 1 when the file has errors, 0 when it has only warnings.

Example:
  $ jitgate policy check examples/policy.yaml
  policy OK (sha256 <hex digest of the file>), 0 warnings
  $ jitgate policy check policy.yaml --json | jq '.issues[] | select(.severity == "error")'`,
    )
    .action(async (file: string, opts: { json?: boolean }) => {
      const { loadPolicyFile } = await import('../policy/load.js');
      const loaded = await loadPolicyFile(file);
      const { errors, warnings } = countIssues(loaded.issues);
      if (opts.json) {
        io.out(
          `${JSON.stringify(
            { file, ok: errors === 0, hash: loaded.hash, errors, warnings, issues: loaded.issues },
            null,
            2,
          )}\n`,
        );
      } else {
        for (const issue of loaded.issues) io.out(`${formatIssue(file, issue)}\n`);
        io.out(
          errors === 0
            ? `policy OK (sha256 ${loaded.hash}), ${plural(warnings, 'warning')}\n`
            : `policy invalid: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`,
        );
      }
      if (errors > 0) process.exitCode = 1;
    });
}
