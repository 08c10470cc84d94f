/** Compiler-style text for policy findings: `FILE:LINE:COL error key.path: message`. */
import type { PolicyIssue } from './types.js';

export function formatIssue(file: string, issue: PolicyIssue): string {
  const where = issue.line === null ? `${file}:` : `${file}:${issue.line}:${issue.column ?? 1}`;
  return `${where} ${issue.severity} ${issue.path === '' ? '(top level)' : issue.path}: ${issue.message}`;
}

/** File order: by line and column; findings without a position last. */
export function compareIssues(a: PolicyIssue, b: PolicyIssue): number {
  const la = a.line ?? Number.MAX_SAFE_INTEGER;
  const lb = b.line ?? Number.MAX_SAFE_INTEGER;
  if (la !== lb) return la - lb;
  const ca = a.column ?? 0;
  const cb = b.column ?? 0;
  if (ca !== cb) return ca - cb;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export function countIssues(issues: readonly PolicyIssue[]): { errors: number; warnings: number } {
  let errors = 0;
  for (const i of issues) if (i.severity === 'error') errors++;
  return { errors, warnings: issues.length - errors };
}

/** `3 errors`, `1 warning`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
