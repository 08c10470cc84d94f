/** `jitgate audit verify|export|report|prune`: the auditor's verbs, each in its own file. */
import type { Command } from 'commander';
import { register as verify } from './audit-verify.js';
import { register as exportVerb } from './audit-export.js';
import { register as report } from './audit-report.js';
import { register as prune } from './audit-prune.js';
import { processAuditIo, type AuditCliIo } from './audit-io.js';

export function register(program: Command, io: AuditCliIo = processAuditIo): void {
  const audit = program.command('audit').description('the tamper-evident audit log: verify, export, report, prune');
  verify(audit, io);
  exportVerb(audit, io);
  report(audit, io);
  prune(audit, io);
}
