/**
 * Runs the section schemas over the raw document and turns zod's issues into
 * findings people can act on: one per unknown key with a "did you mean", the
 * branch of a union that was meant rather than all of them, plain words for
 * types ("a list", "a mapping") instead of JavaScript's.
 */
import * as z from 'zod';
import type { Finding } from './finding.js';
import { error } from './finding.js';
import type { PolicyPath } from './path.js';
import { SECTION_NAMES, SECTION_SCHEMAS, type RawSections, type SectionName } from './schema.js';
import { didYouMean } from './suggest.js';

export interface SchemaResult {
  sections: RawSections;
  /** Sections that did not pass; references into them are not cross-checked. */
  failed: Set<SectionName>;
  findings: Finding[];
}

/** Validates every top-level section independently. */
export function checkSchema(raw: unknown): SchemaResult {
  const findings: Finding[] = [];
  const failed = new Set<SectionName>();
  const sections: RawSections = {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    findings.push(error([], `the policy file must be a mapping of keys (version, scopes, groups, …), not ${describe(raw)}`));
    for (const name of SECTION_NAMES) failed.add(name);
    return { sections, failed, findings };
  }
  const doc = raw as Record<string, unknown>;
  const known = new Set<string>(SECTION_NAMES);
  for (const key of Object.keys(doc)) {
    if (!known.has(key)) findings.push(error([key], `unknown key "${key}"${didYouMean(key, SECTION_NAMES)}`, { atKey: true }));
  }
  // One WeakMap per run: strict objects record which keys they allow, so an
  // unknown key can be answered with the nearest allowed one.
  const allowed = new WeakMap<object, string[]>();
  for (const name of SECTION_NAMES) {
    const schema = SECTION_SCHEMAS[name] as z.ZodType;
    const result = schema.safeParse(doc[name], { error: errorMap(allowed) });
    if (result.success) {
      (sections as Record<string, unknown>)[name] = result.data;
    } else {
      failed.add(name);
      convert(result.error.issues, [name], doc, allowed, findings);
    }
  }
  return { sections, failed, findings };
}

function errorMap(allowed: WeakMap<object, string[]>): z.core.$ZodErrorMap {
  return (iss) => {
    switch (iss.code) {
      case 'invalid_type':
        if (iss.input === undefined) return 'required key is missing';
        return `expected ${expectedName(iss.expected)}, got ${describe(iss.input)}`;
      case 'invalid_value':
        return iss.values.length === 1
          ? `must be ${JSON.stringify(iss.values[0])}`
          : `must be one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}`;
      case 'too_small':
        if (iss.origin === 'array') return `list at least ${String(iss.minimum)} item${iss.minimum === 1 ? '' : 's'}`;
        if (iss.origin === 'string') return 'must not be empty';
        return `must be at least ${String(iss.minimum)}`;
      case 'too_big':
        return `must be at most ${String(iss.maximum)}`;
      case 'unrecognized_keys': {
        const shape = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
        if (shape && iss.input && typeof iss.input === 'object') allowed.set(iss.input, Object.keys(shape));
        return `unknown keys ${iss.keys.join(', ')}`;
      }
      default:
        return undefined;
    }
  };
}

function convert(
  issues: readonly z.core.$ZodIssue[],
  base: PolicyPath,
  root: Record<string, unknown>,
  allowed: WeakMap<object, string[]>,
  out: Finding[],
): void {
  for (const iss of issues) {
    const path: PolicyPath = [...base, ...iss.path.map((p) => (typeof p === 'number' ? p : String(p)))];
    switch (iss.code) {
      case 'unrecognized_keys': {
        const holder = valueAt(root, path);
        const keys = holder !== null && typeof holder === 'object' ? (allowed.get(holder) ?? []) : [];
        for (const key of iss.keys) {
          out.push(error([...path, key], `unknown key "${key}"${didYouMean(key, keys)}`, { atKey: true }));
        }
        break;
      }
      case 'invalid_key':
        out.push(error(path, iss.issues[0]?.message ?? iss.message, { atKey: true }));
        break;
      case 'invalid_union': {
        // The meant branch is the one whose root type fitted the input; its
        // own issues say precisely what is wrong inside it.
        const meant = iss.errors.filter(
          (branch) => !branch.some((b) => b.path.length === 0 && (b.code === 'invalid_type' || b.code === 'invalid_value')),
        );
        if (meant.length === 1 && meant[0]) convert(meant[0], path, root, allowed, out);
        else out.push(error(path, iss.message));
        break;
      }
      default:
        out.push(error(path, iss.message));
    }
  }
}

function valueAt(root: unknown, path: PolicyPath): unknown {
  let node = root;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[seg];
  }
  return node;
}

function expectedName(expected: string): string {
  switch (expected) {
    case 'object': return 'a mapping';
    case 'array': return 'a list';
    case 'string': return 'a string';
    case 'number': return 'a number';
    case 'int': return 'a whole number';
    case 'boolean': return 'true or false';
    default: return expected;
  }
}

/** A YAML reader's name for a value's kind. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a date';
  switch (typeof value) {
    case 'object': return 'a mapping';
    case 'string': return `a string`;
    case 'number': return Number.isInteger(value) ? 'a whole number' : 'a number';
    case 'boolean': return value ? 'true' : 'false';
    default: return typeof value;
  }
}
