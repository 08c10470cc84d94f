/**
 * Rule conditions in CEL. Each `when` is parsed and type-checked once, at
 * load; a decision only runs the compiled program.
 */
import { Environment, type ParseResult } from '@marcbachmann/cel-js';
import type { CompiledCondition } from './types.js';

/**
 * The variables a condition may name, as the decision engine provides them
 * (src/policy/decide.ts): `request` is the access request being decided,
 * `now` the moment of the decision, `history` what the requester held before
 * (see docs/policy.md). Anything else is refused at load: a misspelt variable
 * would otherwise only surface as a failed evaluation at decision time.
 */
export const CEL_VARIABLES = ['request', 'now', 'history'] as const;

// Building an environment is the expensive part; one serves every policy.
const environment = (() => {
  const env = new Environment({ unlistedVariablesAreDyn: false, enableOptionalTypes: true });
  for (const name of CEL_VARIABLES) env.registerVariable(name, 'dyn');
  return env;
})();

export type CompileResult =
  | { ok: true; condition: CompiledCondition }
  /** `offset` is where in the source the problem is, when the parser says. */
  | { ok: false; message: string; offset: number | null };

interface CelError {
  summary?: string;
  message?: string;
  range?: { start: number; end: number };
}

function describe(err: unknown): { message: string; offset: number | null } {
  const e = (err ?? {}) as CelError;
  // `summary` is the one-line reason; `message` adds a source excerpt for terminals.
  const message = e.summary ?? (e.message ?? String(err)).split('\n')[0] ?? 'invalid expression';
  return { message, offset: typeof e.range?.start === 'number' ? e.range.start : null };
}

/**
 * Parses and type-checks a condition. It must be able to yield a boolean;
 * `evaluate(context)` of the result runs the program and may throw on a
 * missing key or a type mismatch, which callers treat as "condition failed".
 */
export function compileCondition(source: string): CompileResult {
  let program: ParseResult;
  try {
    program = environment.parse(source);
  } catch (err) {
    return { ok: false, ...describe(err) };
  }
  const checked = program.check();
  if (!checked.valid) return { ok: false, ...describe(checked.error) };
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    return { ok: false, message: `a condition must be true or false, this one yields ${checked.type}`, offset: null };
  }
  return {
    ok: true,
    condition: {
      source,
      evaluate: (context: Record<string, unknown>): unknown => program(context),
    },
  };
}
