/**
 * Loading the policy file: YAML → schema → cross-references → CEL → Policy.
 * Every finding names its key path and line; the policy is null when any
 * finding is an error, so a broken file never half-applies.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { JitgateError } from '../util/errors.js';
import { compileRuleConditions } from './conditions.js';
import { crossCheck } from './cross-check.js';
import type { Finding } from './finding.js';
import { compareIssues } from './format-issue.js';
import { normalize } from './normalize.js';
import { formatPath } from './path.js';
import { PolicyInvalidError } from './policy-invalid-error.js';
import type { RawPolicy } from './schema.js';
import { checkSchema } from './schema-check.js';
import type { Policy, PolicyIssue } from './types.js';
import { YamlSource } from './yaml-source.js';

export { PolicyInvalidError } from './policy-invalid-error.js';

export interface LoadOptions {
  /** Epoch seconds; exceptions that ended before it are reported. Defaults to the current time. */
  now?: number;
}

export interface LoadedPolicy {
  /** Null when any issue is an error. */
  policy: Policy | null;
  /** Errors and warnings in file order. */
  issues: PolicyIssue[];
  /** SHA-256 hex of the file's bytes, also when the policy is invalid. */
  hash: string;
  /** Name of the file the text came from, for messages. */
  source: string;
}

/** Reads and validates a policy file. Throws `policy_unreadable` when the file cannot be read. */
export async function loadPolicyFile(path: string, opts: LoadOptions = {}): Promise<LoadedPolicy> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new JitgateError('policy_unreadable', `cannot read policy file ${path}: ${why}`, { cause: err });
  }
  return loadPolicyBytes(bytes, { ...opts, source: path });
}

/** Validates policy text; the hash is over its UTF-8 bytes, as if read from a file. */
export function loadPolicyText(text: string, opts: LoadOptions & { source?: string } = {}): LoadedPolicy {
  return loadPolicyBytes(Buffer.from(text, 'utf8'), opts);
}

/** Loads a policy for use: throws PolicyInvalidError (`policy_invalid`) on errors, returns the warnings. */
export async function loadPolicyOrThrow(
  path: string,
  opts: LoadOptions = {},
): Promise<{ policy: Policy; warnings: PolicyIssue[] }> {
  return policyOrThrow(await loadPolicyFile(path, opts));
}

/** The policy of a load result, or PolicyInvalidError with all its issues. */
export function policyOrThrow(loaded: LoadedPolicy): { policy: Policy; warnings: PolicyIssue[] } {
  if (!loaded.policy) throw new PolicyInvalidError(loaded.source, loaded.issues);
  return { policy: loaded.policy, warnings: loaded.issues.filter((i) => i.severity === 'warning') };
}

/** Validates the bytes of a policy file. Pure apart from reading the clock when `now` is not given. */
export function loadPolicyBytes(bytes: Uint8Array, opts: LoadOptions & { source?: string } = {}): LoadedPolicy {
  const hash = createHash('sha256').update(bytes).digest('hex');
  const source = opts.source ?? '<policy>';
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const done = (issues: PolicyIssue[], policy: Policy | null = null): LoadedPolicy => ({
    policy,
    issues: issues.sort(compareIssues),
    hash,
    source,
  });

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return done([{ severity: 'error', path: '', line: null, column: null, message: 'the file is not UTF-8 text' }]);
  }

  const yaml = new YamlSource(text);
  const syntax: PolicyIssue[] = [];
  for (const [severity, list] of [['error', yaml.doc.errors], ['warning', yaml.doc.warnings]] as const) {
    for (const e of list) {
      const path = yaml.pathAt(e.pos[0]);
      const pos = yaml.position(e.pos[0]);
      const message =
        e.code === 'DUPLICATE_KEY'
          ? `duplicate key${path.length ? ` "${String(path[path.length - 1])}"` : ''}: each key may appear once in a mapping`
          : e.code === 'MULTIPLE_DOCS'
            ? 'a policy file holds one YAML document; remove the second "---"'
            : `YAML: ${e.message}`;
      syntax.push({ severity, path: formatPath(path), line: pos.line, column: pos.column, message });
    }
  }
  if (yaml.doc.errors.length > 0) return done(syntax);
  if (yaml.doc.contents === null) {
    return done([...syntax, { severity: 'error', path: '', line: 1, column: 1, message: 'the policy file is empty' }]);
  }

  let raw: unknown;
  try {
    raw = yaml.doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return done([...syntax, { severity: 'error', path: '', line: 1, column: 1, message: `YAML: ${(err as Error).message}` }]);
  }

  const schema = checkSchema(raw);
  const findings: Finding[] = [...schema.findings];
  const rules = schema.failed.has('rules') ? null : (schema.sections.rules ?? []);
  const compiled = rules ? compileRuleConditions(rules) : null;
  if (compiled) findings.push(...compiled.findings);
  findings.push(...crossCheck({ sections: schema.sections, failed: schema.failed, now }));

  const issues = [...syntax, ...findings.map((f) => place(yaml, f))];
  if (issues.some((i) => i.severity === 'error') || !compiled) return done(issues);
  const policy = normalize({ raw: schema.sections as RawPolicy, hash, conditions: compiled.conditions });
  return done(issues, policy);
}

function place(yaml: YamlSource, f: Finding): PolicyIssue {
  const pos = yaml.locate(f.path, {
    ...(f.atKey ? { atKey: true } : {}),
    ...(f.valueOffset !== undefined ? { valueOffset: f.valueOffset } : {}),
  });
  return {
    severity: f.severity,
    path: formatPath(f.path),
    line: pos?.line ?? null,
    column: pos?.column ?? null,
    message: f.message,
  };
}
