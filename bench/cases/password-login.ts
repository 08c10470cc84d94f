/**
 * password_login: people signing in with a password, end to end as a browser
 * and a public client do it: GET /authorize (PKCE S256) → the login page →
 * the form post (scrypt password check, session, code) → the code redeemed
 * at the token endpoint for an ES256 access token and a refresh token. The
 * figure is complete logins per second and per core of the server's CPU,
 * shown beside Keycloak's published sizing figure (not measured here).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { freePort, startChildServer } from '../lib/child-server.js';
import { asFailure } from '../lib/composite.js';
import { summarize } from '../lib/percentiles.js';
import { watchServer } from '../lib/server-watch.js';
import { cycleProblems } from '../lib/verdict.js';
import type { CompositeCase, CompositeContext, CompositeOutcome, LoadResult, RunningServer } from '../lib/types.js';

/**
 * Keycloak's sizing guide: "For each 15 password-based user logins per
 * second, allocate 1 vCPU to the cluster". Published, not measured here.
 */
export const KEYCLOAK_PUBLISHED_LOGINS_PER_VCPU = 15;
const KEYCLOAK_SOURCE = 'Keycloak server guide, "Concepts for sizing CPU and memory resources" (published figure, not measured here)';

const USERNAME = 'bench-user';
const PASSWORD = 'bench-user-password-7c1e9a04d2b5';
const CLIENT_ID = 'bench-cli';
const REDIRECT_URI = 'http://127.0.0.1/callback';
const STEPS = ['authorize', 'login page', 'login post', 'token'] as const;
const TIMEOUT_MS = 30_000;

const POLICY = `version: 1
timezone: UTC
scopes:
  read:logs: { risk: low }
groups:
  people: { members: [user:${USERNAME}], baseline: [read:logs] }
clients:
  ${CLIENT_ID}: { public: true, redirect_uris: ["${REDIRECT_URI}"] }
default_decision: deny
`;

/** One login step failed: which, and why (never a token or a password). */
class StepError extends Error {
  constructor(readonly step: string, why: string) {
    super(`${step}: ${why}`);
  }
}

/** Runs `jitgate users add` on the database the server will open. */
async function addUser(rootDir: string, dbUrl: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/jitgate.js', 'users', 'add', USERNAME, '--password-stdin', '--db', dbUrl], {
      cwd: rootDir,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`jitgate users add exited ${code}: ${err.trim()}`))));
    child.stdin.end(`${PASSWORD}\n`);
  });
}

/** One whole login on a keep-alive pool; each step's time goes to `stepMs`. The tokens are checked, not kept. */
async function login(pool: Pool, stepMs: Map<string, number[]>): Promise<void> {
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await fn();
    stepMs.get(step)!.push(performance.now() - t0);
    return out;
  };
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(16).toString('base64url');
  const q = new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, state, code_challenge: challenge, code_challenge_method: 'S256', scope: 'read:logs' });

  const first = await timed('authorize', async () => {
    const res = await pool.request({ method: 'GET', path: `/authorize?${q}` });
    await res.body.dump();
    return res;
  });
  const loginPath = first.headers.location;
  if (first.statusCode !== 303 || typeof loginPath !== 'string') throw new StepError('authorize', `status ${first.statusCode}`);
  const setCookie = first.headers['set-cookie'];
  const cookie = (Array.isArray(setCookie) ? setCookie : [setCookie ?? '']).map((c) => c.split(';')[0]).join('; ');

  const page = await timed('login page', async () => {
    const res = await pool.request({ method: 'GET', path: loginPath, headers: { cookie } });
    return { status: res.statusCode, html: await res.body.text() };
  });
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(page.html)?.[1];
  const request = field('request');
  const csrf = field('csrf');
  if (page.status !== 200 || !request || !csrf) throw new StepError('login page', `status ${page.status}`);

  const post = await timed('login post', async () => {
    const res = await pool.request({
      method: 'POST',
      path: '/login',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request, csrf, action: 'password', username: USERNAME, password: PASSWORD, otp: '' }).toString(),
    });
    await res.body.dump();
    return res;
  });
  const back = post.headers.location;
  if (post.statusCode !== 303 || typeof back !== 'string') throw new StepError('login post', `status ${post.statusCode}`);
  const answer = new URL(back).searchParams;
  const code = answer.get('code');
  if (!code || answer.get('state') !== state) throw new StepError('login post', 'no code for this state in the redirect');

  const token = await timed('token', async () => {
    const res = await pool.request({
      method: 'POST',
      path: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: CLIENT_ID, code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString(),
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  });
  if (token.status !== 200 || typeof token.body.access_token !== 'string' || typeof token.body.refresh_token !== 'string') {
    throw new StepError('token', `status ${token.status}`);
  }
}

interface Window {
  loginMs: number[];
  stepMs: Map<string, number[]>;
  failures: Map<string, number>;
}

/**
 * Source addresses the logins come from, in turn: the server bounds the
 * sign-ins started per address (src/login/start-limit.ts), and a load of
 * people signing in comes from many addresses, not one. The whole of
 * 127.0.0.0/8 is loopback on Linux, so 127.0.1.1–127.0.1.255 reach a server
 * listening on 127.0.0.1; 255 addresses × that bound is far more than any
 * run here starts within the bound's window.
 */
const SOURCE_ADDRESSES = Array.from({ length: 255 }, (_, i) => `127.0.1.${i + 1}`);

/** One keep-alive pool per source address, taken in turn by the logins. */
class Callers {
  private next = 0;
  readonly pools: Pool[];

  constructor(origin: string, connectionsEach: number) {
    this.pools = SOURCE_ADDRESSES.map(
      (localAddress) => new Pool(origin, { connections: connectionsEach, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS, localAddress }),
    );
  }

  take(): Pool {
    return this.pools[this.next++ % this.pools.length]!;
  }

  close(): Promise<unknown> {
    return Promise.all(this.pools.map((p) => p.close()));
  }
}

/** `workers` virtual users logging in back to back for `seconds`, each login from the next source address. */
async function drive(callers: Callers, workers: number, seconds: number): Promise<Window> {
  const w: Window = { loginMs: [], stepMs: new Map(STEPS.map((s) => [s, []])), failures: new Map() };
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await login(callers.take(), w.stepMs);
          if (performance.now() <= end) w.loginMs.push(performance.now() - t0);
        } catch (err) {
          const key = err instanceof StepError ? err.step : ((err as { code?: string }).code ?? 'error');
          w.failures.set(key, (w.failures.get(key) ?? 0) + 1);
        }
      }
    }),
  );
  return w;
}

async function run(ctx: CompositeContext): Promise<CompositeOutcome> {
  const who = { serverId: 'jitgate-sqlite', label: 'jitgate (SQLite)', role: 'jitgate' as const };
  const out: CompositeOutcome = { loads: [], failures: [], comparisons: [] };
  if (ctx.quick) {
    // A server of its own, a user added through the CLI and a load of deliberately
    // slow password checks do not fit in the quick run's two minutes; a full run measures it.
    out.subjectNotes = [{ label: 'password_login', note: 'not run with --quick' }];
    return out;
  }
  const port = await freePort();
  const dir = join(ctx.env.workDir, `password-login-${port}`);
  mkdirSync(dir, { recursive: true });
  const policyPath = join(dir, 'policy.yaml');
  writeFileSync(policyPath, POLICY);
  const dbUrl = `sqlite:${join(dir, 'bench.db')}`;
  const issuer = `http://127.0.0.1:${port}`;
  let server: RunningServer | null = null;
  // Password hashing dominates a login: the figure is CPU-bound long before 50 users, so fewer keep latency readable.
  const workers = Math.min(ctx.settings.connections, 16);
  try {
    await addUser(ctx.env.rootDir, dbUrl);
    server = await startChildServer({
      id: 'jitgate-password-login',
      args: ['bin/jitgate.js', 'serve', '--policy', policyPath, '--db', dbUrl, '--port', String(port), '--host', '127.0.0.1', '--issuer', issuer],
      cwd: ctx.env.rootDir,
      env: Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('JITGATE_')).map((k) => [k, undefined])),
      port,
      readyPath: '/.well-known/oauth-authorization-server',
      logDir: ctx.env.workDir,
      readyTimeoutMs: 60_000,
    });
    const callers = new Callers(server.baseUrl, 2);
    try {
      await login(callers.take(), new Map(STEPS.map((s) => [s, []])));
      ctx.log(`password_login: ${workers} virtual users, warm-up ${ctx.settings.warmupS} s`);
      if (ctx.settings.warmupS > 0) await drive(callers, workers, ctx.settings.warmupS);
      const watch = await watchServer(server.pid);
      const t0 = performance.now();
      const w = await drive(callers, workers, ctx.settings.durationS);
      const wallS = (performance.now() - t0) / 1000;
      const logins = w.loginMs.length;
      const window = await watch.end(logins);
      const lat = summarize(w.loginMs.sort((a, b) => a - b));
      const failed = [...w.failures.values()].reduce((a, b) => a + b, 0);
      const rps = logins / ctx.settings.durationS;
      const perCore = window.serverCpuS && window.serverCpuS > 0 ? logins / window.serverCpuS : 0;
      const statusCodes: Record<string, number> = { 'login ok': logins, ...Object.fromEntries([...w.failures].map(([k, v]) => [`${k} failed`, v])) };
      const load: LoadResult = {
        ...who,
        unit: 'cycle',
        rps,
        p50Ms: round(lat.p50),
        p90Ms: round(lat.p90),
        p99Ms: round(lat.p99),
        maxMs: round(lat.max),
        requests: logins,
        durationS: Math.round(wallS * 10) / 10,
        errors: 0,
        timeouts: 0,
        non2xx: failed,
        mismatches: failed,
        statusCodes,
        ...window,
        problems: cycleProblems({ cycles: logins, errors: 0, timeouts: 0, unexpected: Object.fromEntries(w.failures), badBodies: {}, outsideFailures: 0 }),
        describe:
          `per login: GET /authorize (PKCE S256) → 303; GET /login → 200 page with CSRF token; POST /login (username, password) → 303 with code; ` +
          `POST /token authorization_code + code_verifier (public client) → 200 ES256 access token and refresh token; ${workers} concurrent virtual users, one local user, each login from the next of ${SOURCE_ADDRESSES.length} loopback source addresses`,
        steps: STEPS.map((step) => {
          const ms = (w.stepMs.get(step) ?? []).sort((a, b) => a - b);
          const s = summarize(ms);
          return { step, ok: ms.length, p50Ms: round(s.p50), p99Ms: round(s.p99), maxMs: round(s.max), statusCodes: {} };
        }),
        facts: [
          `${rps.toFixed(1)} logins/s; ${perCore.toFixed(1)} logins/s per core of server CPU (${logins} logins over ${(window.serverCpuS ?? 0).toFixed(1)} CPU s); ` +
            `Keycloak publishes ${KEYCLOAK_PUBLISHED_LOGINS_PER_VCPU} password logins/s per vCPU (${KEYCLOAK_SOURCE})`,
        ],
      };
      out.loads.push(load);
      out.comparisons.push({
        caseName: 'password_login',
        jitgate: `${who.label}, logins/s per core`,
        jitgateRps: perCore,
        peer: `Keycloak (published sizing figure, not measured)`,
        peerRps: KEYCLOAK_PUBLISHED_LOGINS_PER_VCPU,
        unit: 'cycle',
        ratio: perCore / KEYCLOAK_PUBLISHED_LOGINS_PER_VCPU,
        target: null,
        verdict: load.problems.length ? 'invalid' : 'reference',
        why: load.problems.length ? load.problems.join('; ') : null,
      });
      out.tables = [
        `Password logins, end to end (authorize → login page → form post → code exchange), ${workers} virtual users:\n\n` +
          '| logins/s | server CPU | logins/s per core | Keycloak, published, per vCPU | login p50 ms | login p99 ms |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n' +
          `| ${rps.toFixed(1)} | ${(window.serverCpuPct ?? 0).toFixed(0)} % | ${perCore.toFixed(1)} | ${KEYCLOAK_PUBLISHED_LOGINS_PER_VCPU} | ${round(lat.p50)} | ${round(lat.p99)} |`,
      ];
      out.servers = [{ label: who.label, describe: `\`jitgate serve\` on a fresh SQLite database with one local user (\`jitgate users add\`) and one public client` }];
      ctx.log(`password_login: ${rps.toFixed(1)} logins/s, ${perCore.toFixed(1)} per core of server CPU, p99 ${round(lat.p99)} ms, ${failed} failed`);
    } finally {
      await callers.close();
    }
  } catch (err) {
    out.failures.push(await asFailure(who, err, server ? [server] : []));
  } finally {
    await server?.stop().catch(() => {});
  }
  return out;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export const passwordLogin: CompositeCase = {
  kind: 'composite',
  name: 'password_login',
  summary:
    'People signing in with a password the way a browser and a public client (PKCE) do it, four dependent requests per login: ' +
    'GET /authorize, GET /login (the page with its CSRF token), POST /login (scrypt check of the password, a session, an ' +
    'authorization code), and the code redeemed at the token endpoint for an ES256 access token and a refresh token. ' +
    'Virtual users log in back to back against a server with one local user; the figure is logins per second and logins ' +
    `per second per core of the server's CPU (from /proc), shown beside Keycloak's published sizing figure of ` +
    `${KEYCLOAK_PUBLISHED_LOGINS_PER_VCPU} password logins per second per vCPU, which is quoted, not measured. Not run with --quick.`,
  run,
};
