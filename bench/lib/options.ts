/** Command-line options of bench/run.ts. */
import { parseArgs } from 'node:util';
import { JitgateError } from '../../src/util/errors.js';

export interface RunOptions {
  quick: boolean;
  check: boolean;
  /** Case names to run; null runs all. */
  only: string[] | null;
  durationS: number;
  warmupS: number;
  connections: number;
  /** Where to write the markdown report (the JSON goes beside it); null writes nothing. */
  out: string | null;
  pg: boolean;
  pgUrl: string;
  help: boolean;
}

export const DEFAULT_REPORT = 'docs/benchmarks.md';
export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

export const USAGE = `Usage: npm run bench [-- OPTIONS]   (tsx bench/run.ts [OPTIONS])

  --quick              short loads (whole run under 2 minutes); writes no report unless --out is given
  --check              exit non-zero when a target is missed or a figure is not clean
  --only NAME[,NAME]   run only these cases
  --duration S         measured seconds per load (default 15, quick 3)
  --warmup S           warm-up seconds before each load (default 5, quick 1)
  --connections N      concurrent connections; cycle cases: concurrent workers (default 50)
  --out FILE           markdown report path; FILE.json is written beside it (default ${DEFAULT_REPORT}, '-' for none)
  --pg                 also measure jitgate on PostgreSQL
  --pg-url URL         PostgreSQL for --pg (default ${DEFAULT_PG_URL}); JITGATE_KEK is used when set
  -h, --help           this text
`;

function positive(name: string, raw: string | undefined, fallback: number, allowZero = false): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    throw new JitgateError('bench_usage', `--${name} needs a ${allowZero ? 'non-negative' : 'positive'} number, got '${raw}'`);
  }
  return n;
}

/** Parses and checks the options; `caseNames` are the names `--only` may use. */
export function parseOptions(argv: string[], caseNames: readonly string[]): RunOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean', default: false },
        check: { type: 'boolean', default: false },
        only: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        connections: { type: 'string' },
        out: { type: 'string' },
        pg: { type: 'boolean', default: false },
        'pg-url': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new JitgateError('bench_usage', (err as Error).message);
  }
  const quick = values.quick === true;
  let only: string[] | null = null;
  if (values.only !== undefined) {
    only = values.only.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = only.filter((n) => !caseNames.includes(n));
    if (unknown.length || only.length === 0) {
      throw new JitgateError('bench_usage', `unknown case ${unknown.join(', ') || "''"}; cases: ${caseNames.join(', ')}`);
    }
  }
  const connections = positive('connections', values.connections, 50);
  if (!Number.isInteger(connections)) throw new JitgateError('bench_usage', '--connections needs a whole number');
  const out = values.out === undefined ? (quick ? null : DEFAULT_REPORT) : values.out === '-' ? null : values.out;
  return {
    quick,
    check: values.check === true,
    only,
    durationS: positive('duration', values.duration, quick ? 3 : 15),
    warmupS: positive('warmup', values.warmup, quick ? 1 : 5, true),
    connections,
    out,
    pg: values.pg === true,
    pgUrl: values['pg-url'] ?? DEFAULT_PG_URL,
    help: values.help === true,
  };
}
