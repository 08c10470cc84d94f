/**
 * The shapes shared by the runner, the cases and the report. A case is one
 * file in bench/cases/ exporting a `BenchCase`, listed once in
 * bench/cases/index.ts.
 */

/** A server process started fresh for one measured load. */
export interface RunningServer {
  /** Server spec id, e.g. `jitgate-sqlite`. */
  id: string;
  /** `http://127.0.0.1:PORT` */
  baseUrl: string;
  pid: number;
  /**
   * The body of the readiness document (RFC 8414 / OIDC discovery for
   * authorization servers, `{}` for servers without one). Cases read
   * `token_endpoint` and `introspection_endpoint` from it.
   */
  metadata: Record<string, unknown>;
  /** The last lines the process wrote, for error messages. */
  outputTail(): Promise<string>;
  stop(): Promise<void>;
}

/** How to start one kind of server. */
export interface ServerSpec {
  id: string;
  /** How the report names it, e.g. `jitgate (SQLite)`. */
  label: string;
  /** One line on how it is configured, for the report. */
  describe: string;
  start(env: StartEnv): Promise<RunningServer>;
}

export interface StartEnv {
  /** A directory for this run's files (databases, logs); removed afterwards. */
  workDir: string;
  /** The repository root. */
  rootDir: string;
  /** PostgreSQL URL for the `--pg` variants. */
  pgUrl: string;
}

/** What the load generator sends: every entry of `bodies` in turn, on each connection. */
export interface LoadPlan {
  method: 'GET' | 'POST';
  /** Absolute URL of the endpoint under load. */
  url: string;
  headers: Record<string, string>;
  /** Request bodies cycled per connection; one entry for a fixed request. */
  bodies: string[];
  /**
   * A substring every good response body contains; responses without it count
   * as mismatches (a 200 that says `"active":false` is not a success).
   */
  expectBody: string;
  /** One line on what is sent, for the report. */
  describe: string;
}

/**
 * A target tied to the comparison of jitgate with one peer:
 * `ratio` — jitgate req/s divided by the peer's req/s must be at least `min`;
 * `absolute` — jitgate's req/s must be at least `min` (the peer is shown for scale).
 */
export type Target = { kind: 'ratio'; min: number } | { kind: 'absolute'; min: number };

/** One server measured within a case. */
export interface Subject {
  server: ServerSpec;
  role: 'jitgate' | 'peer';
  /** Set on peers that jitgate is judged against; peers without one are for reference. */
  target?: Target;
  /** Why this subject is measured the way it is, when that needs saying. */
  note?: string;
  /**
   * Readies the server for the load (fetches tokens, checks that it answers
   * the way the comparison assumes) and returns what to send. Throws when the
   * server does not behave as required: the load is then not measured.
   */
  prepare(server: RunningServer): Promise<LoadPlan>;
  /** Checks after the load (e.g. tokens still active); a failure flags the figure. */
  verify?(server: RunningServer, plan: LoadPlan): Promise<void>;
}

export interface CaseOptions {
  /** Also measure jitgate on PostgreSQL. */
  pg: boolean;
}

/** A benchmark case: one operation, measured on jitgate and on its peers. */
export interface BenchCase {
  /** Stable name used by `--only`, the JSON and the report. */
  name: string;
  /** One paragraph: what is measured and why the peers are the right ones. */
  summary: string;
  subjects(options: CaseOptions): Subject[];
}

/** Figures of one measured load. */
export interface LoadResult {
  serverId: string;
  label: string;
  role: 'jitgate' | 'peer';
  /** Mean of the per-second request counts. */
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  durationS: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Responses whose body lacked the plan's `expectBody` (non-2xx ones included). */
  mismatches: number;
  statusCodes: Record<string, number>;
  /** Server process CPU time (user + system) during the measured load, seconds. */
  serverCpuS: number;
  /** serverCpuS over wall time, percent of one core. */
  serverCpuPct: number;
  /** Server CPU microseconds per completed request. */
  serverCpuUsPerReq: number;
  /** VmHWM of the server process at the end of the load, MiB. */
  serverPeakRssMiB: number;
  /** Largest VmRSS sampled during the measured load, MiB. */
  serverMaxSampledRssMiB: number;
  /** Load generator (this process) CPU during the load, percent of one core. */
  clientCpuPct: number;
  /** 1-minute load average just before the measured load. */
  loadAvgBefore: number;
  /** Reasons the figure is not clean; empty when it is. */
  problems: string[];
  describe: string;
}

/** A subject that could not be measured at all. */
export interface LoadFailure {
  serverId: string;
  label: string;
  role: 'jitgate' | 'peer';
  error: string;
}

export interface Comparison {
  caseName: string;
  jitgate: string;
  jitgateRps: number | null;
  peer: string;
  peerRps: number | null;
  ratio: number | null;
  target: Target | null;
  /** `reference` when there is no target; `invalid` when a figure is missing or not clean. */
  verdict: 'pass' | 'fail' | 'reference' | 'invalid';
  why: string | null;
}

export interface CaseResult {
  name: string;
  summary: string;
  loads: LoadResult[];
  failures: LoadFailure[];
  subjectNotes: { label: string; note: string }[];
  comparisons: Comparison[];
}

export interface MachineFacts {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  date: string;
  gitCommit: string;
  gitDirty: boolean | null;
  loadGenerator: string;
}

export interface RunSettings {
  quick: boolean;
  durationS: number;
  warmupS: number;
  connections: number;
  only: string[] | null;
  pg: boolean;
}

export interface RunRecord {
  machine: MachineFacts;
  settings: RunSettings;
  servers: { label: string; describe: string }[];
  cases: CaseResult[];
  totalS: number;
}
