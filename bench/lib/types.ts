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

/** How long each measured load lasts and how many connections (or cycle workers) drive it. */
export interface MeasureSettings {
  durationS: number;
  warmupS: number;
  /** Connections of a fixed load; concurrent workers of a cycle load. */
  connections: number;
}

/** What one completed unit of work is: an HTTP request, a scripted cycle of requests, or an in-process call. */
export type RateUnit = 'request' | 'cycle' | 'decision' | 'event';

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
 * A target. On a peer it is tied to the comparison of jitgate with that peer:
 * `ratio` — jitgate's rate divided by the peer's must be at least `min`;
 * `absolute` — jitgate's rate must be at least `min` (the peer is shown for scale).
 * On a jitgate subject (or an in-process case) it judges jitgate's figure alone:
 * `absolute` — its rate (per second, in the case's unit) must be at least `min`;
 * `p99` — its p99 latency must be below `maxMs`.
 */
export type Target = { kind: 'ratio'; min: number } | { kind: 'absolute'; min: number } | { kind: 'p99'; maxMs: number };

/** What every measured server subject has, whatever drives its load. */
export interface SubjectBase {
  server: ServerSpec;
  role: 'jitgate' | 'peer';
  /**
   * On a peer: the target jitgate is judged against; peers without one are for reference.
   * On jitgate: a target for its own figure, judged without a peer.
   */
  target?: Target;
  /** How the report names this subject when it is not the server's label (the same server measured twice in a case). */
  label?: string;
  /** On a peer: the jitgate server ids it is compared with; every jitgate subject of the case when left out. */
  against?: string[];
  /** Why this subject is measured the way it is, when that needs saying. */
  note?: string;
}

/** One server under a fixed load (autocannon) within a case. */
export interface Subject extends SubjectBase {
  /**
   * Readies the server for the load (fetches tokens, checks that it answers
   * the way the comparison assumes) and returns what to send. Throws when the
   * server does not behave as required: the load is then not measured.
   */
  prepare(server: RunningServer, settings: MeasureSettings): Promise<LoadPlan>;
  /** Checks after the load (e.g. tokens still active); a failure flags the figure. */
  verify?(server: RunningServer, plan: LoadPlan): Promise<void>;
}

/** One HTTP request of a cycle step, sent on the runner's pooled keep-alive connections. */
export interface StepRequest {
  /** One of the plan's `steps`. */
  step: string;
  method: 'GET' | 'POST';
  /** Path and query, relative to the server's origin. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The one status a good answer has; any other fails the cycle. */
  expectStatus: number;
}

/** A step's answer with the expected status; the body parsed as JSON (an object). */
export interface StepResponse {
  status: number;
  json: Record<string, unknown>;
}

/** What a cycle worker talks to the server through (bench/lib/cycles.ts). */
export interface CycleHttp {
  /** Sends one step; throws (failing the cycle) on any status but `expectStatus` or a body that is not a JSON object. */
  send(request: StepRequest): Promise<StepResponse>;
  /** Fails the cycle at `step` because the answer, though of the right status, is not what it must be. */
  reject(step: string, why: string): never;
}

/** One concurrent worker's script. */
export interface CycleWorker {
  /** Runs cycle number `n` (from 1) once; timed as one cycle. */
  cycle(n: number): Promise<void>;
  /** Untimed housekeeping before each cycle, e.g. renewing tokens near their expiry. */
  between?(): Promise<void>;
}

/** What a cycle load runs: N workers, each repeating a dependent sequence of requests. */
export interface CyclePlan {
  /** The step names, in order, for per-step figures. */
  steps: readonly string[];
  /** Readies worker `index` (from 0), e.g. with its own tokens, before any cycle runs. */
  worker(index: number, http: CycleHttp): Promise<CycleWorker>;
  /** One line on what a cycle sends, for the report. */
  describe: string;
}

/** One server under a cycle load within a case. */
export interface CycleSubject extends SubjectBase {
  /** Readies the server and returns the script; throws when it does not behave as the cycle needs. */
  prepare(server: RunningServer, settings: MeasureSettings): Promise<CyclePlan>;
  /** Checks after the load; a failure flags the figure. */
  verify?(server: RunningServer, plan: CyclePlan): Promise<void>;
}

/** Figures of an in-process measurement (no server): latencies of single calls. */
export interface InProcessFigures {
  /** Calls per second over the measured time. */
  rate: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  count: number;
  durationS: number;
  /** Calls that threw. */
  errors: number;
  /** CPU time of this process over wall time during the measurement, percent of one core. */
  cpuPct: number;
  /** What was called on what, for the report. */
  describe: string;
  /** Further facts worth a line in the report (workload shape, outcome mix). */
  facts: string[];
}

export interface CaseOptions {
  /** Also measure jitgate on PostgreSQL. */
  pg: boolean;
}

interface CaseBase {
  /** Stable name used by `--only`, the JSON and the report. */
  name: string;
  /** One paragraph: what is measured and why the peers are the right ones. */
  summary: string;
}

/** A benchmark case: one operation under a fixed load (autocannon), measured on jitgate and on its peers. */
export interface LoadCase extends CaseBase {
  /** Left out by the cases that predate the other kinds. */
  kind?: 'load';
  subjects(options: CaseOptions): Subject[];
}

/** A benchmark case of dependent request sequences, each worker looping its script with undici. */
export interface CycleCase extends CaseBase {
  kind: 'cycles';
  subjects(options: CaseOptions): CycleSubject[];
}

/** A benchmark case run inside the runner process, with no server. */
export interface InProcessCase extends CaseBase {
  kind: 'in-process';
  /** How the report names what is measured. */
  label: string;
  unit: RateUnit;
  target?: Target;
  /** Warms up for `settings.warmupS`, then measures for `settings.durationS`; `log` reports progress. */
  measure(settings: MeasureSettings, log: (line: string) => void): Promise<InProcessFigures>;
}

/** What a composite case is given: the run's environment, settings and mode. */
export interface CompositeContext {
  env: StartEnv;
  settings: MeasureSettings;
  /** Also measure on PostgreSQL (`--pg`). */
  pg: boolean;
  /** A `--quick` run: the case shrinks its work to stay within the quick run's two minutes. */
  quick: boolean;
  log(line: string): void;
}

/** What a composite case measured and judged. */
export interface CompositeOutcome {
  loads: LoadResult[];
  failures: LoadFailure[];
  comparisons: Comparison[];
  subjectNotes?: { label: string; note: string }[];
  /** Servers it started, for the report's server list. */
  servers?: { label: string; describe: string }[];
  /** Further markdown tables (with a lead-in line each) for the case's details. */
  tables?: string[];
}

/**
 * A case that starts its own processes and drives its own loads (several
 * processes per subject, loads that depend on earlier figures, rounds of
 * timed events), judging its figures itself.
 */
export interface CompositeCase extends CaseBase {
  kind: 'composite';
  run(ctx: CompositeContext): Promise<CompositeOutcome>;
}

export type BenchCase = LoadCase | CycleCase | InProcessCase | CompositeCase;

/** Figures of one step of a cycle load: every response to it in the measured time. */
export interface StepFigures {
  step: string;
  /** Responses with the expected status. */
  ok: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Responses by status, expected or not. */
  statusCodes: Record<string, number>;
}

/** Figures of one measured load. */
export interface LoadResult {
  serverId: string;
  label: string;
  role: 'jitgate' | 'peer';
  /** What `rps` and `requests` count; `request` when left out. */
  unit?: RateUnit;
  /** Mean of the per-second request counts (of cycles or calls, per `unit`: completed ones over the measured time). */
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Completed requests (cycles, calls). */
  requests: number;
  durationS: number;
  /** Connection errors (for cycles: cycles ended by one; in-process: calls that threw). */
  errors: number;
  timeouts: number;
  /** Non-2xx responses (cycle loads: responses with a status their step does not expect). */
  non2xx: number;
  /** Responses whose body lacked the plan's `expectBody` (non-2xx ones included; cycle loads: unexpected statuses and bodies). */
  mismatches: number;
  /** Responses by status (cycle loads: by `step status`, e.g. `approve 200`). */
  statusCodes: Record<string, number>;
  /** Server process CPU time (user + system) during the measured load, seconds; null without a server. */
  serverCpuS: number | null;
  /** serverCpuS over wall time, percent of one core. */
  serverCpuPct: number | null;
  /** Server CPU microseconds per completed request (cycle). */
  serverCpuUsPerReq: number | null;
  /** VmHWM of the server process at the end of the load, MiB. */
  serverPeakRssMiB: number | null;
  /** Largest VmRSS sampled during the measured load, MiB. */
  serverMaxSampledRssMiB: number | null;
  /** Load generator (this process) CPU during the load, percent of one core. */
  clientCpuPct: number;
  /** 1-minute load average just before the measured load. */
  loadAvgBefore: number;
  /**
   * Share of the machine's CPU time the hypervisor gave to other guests
   * during the measured load (`steal` in /proc/stat), percent; absent where
   * not measured. Tails and ratios are least to be trusted when it is high.
   */
  stealPct?: number;
  /** Reasons the figure is not clean; empty when it is. */
  problems: string[];
  describe: string;
  /** Per-step figures of a cycle load. */
  steps?: StepFigures[];
  /** Further facts the report lists under the case. */
  facts?: string[];
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
  /** null when jitgate's figure is judged alone. */
  peer: string | null;
  peerRps: number | null;
  /** What the rates count; `request` when left out. */
  unit?: RateUnit;
  /** jitgate's p99 latency, where a `p99` target judges it. */
  p99Ms?: number | null;
  ratio: number | null;
  target: Target | null;
  /** How the target reads when `target` alone would say it wrong (e.g. `added p99 ≤ 1 ms`). */
  targetText?: string;
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
  /** Extra markdown tables of a composite case. */
  tables?: string[];
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
