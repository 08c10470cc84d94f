/**
 * The alert tests' world: a webhook receiver on 127.0.0.1 that checks every
 * signature and can be told to fail, and a jitgate server (frozen clock,
 * test identity provider) whose policy sends its webhooks there. The server
 * can be restarted on the same database to show deliveries outlive it.
 */
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { verifySignature } from '../../src/alerts/signature.js';
import type { AlertServiceOptions } from '../../src/alerts/alert-service.js';
import type { Store } from '../../src/store/open.js';
import { FrozenClock } from '../../src/util/clock.js';
import { TestIdp } from './idp.js';
import { postForm, loginWithIdToken } from './server.js';
import type { OpenFn } from './databases.js';

export const WEBHOOK_SECRET = 'webhook-secret-for-tests-0123456789abcdef';

export interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The signature checked against the receiver's idea of now (the frozen clock). */
  signed: boolean;
  /** What the receiver answered. */
  status: number;
}

/** A webhook endpoint: records every POST, answers 200 unless told to fail. */
export class WebhookReceiver {
  url = '';
  readonly received: Received[] = [];
  /** Fail the next N requests to a path (then answer 200). */
  readonly failNext = new Map<string, number>();
  /** Paths that always fail, with this status. */
  readonly failAlways = new Map<string, number>();
  private server: Server | null = null;

  constructor(private readonly nowS: () => number) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = (req.url ?? '/').split('?')[0]!;
        const body = Buffer.concat(chunks).toString('utf8');
        const header = req.headers['x-jitgate-signature'];
        const signed = verifySignature(typeof header === 'string' ? header : undefined, body, WEBHOOK_SECRET, this.nowS());
        let status = 200;
        const left = this.failNext.get(path) ?? 0;
        if (left > 0) {
          this.failNext.set(path, left - 1);
          status = 500;
        } else if (this.failAlways.has(path)) {
          status = this.failAlways.get(path)!;
        }
        this.received.push({ path, headers: req.headers, body, signed, status });
        res.statusCode = status;
        res.end(status === 200 ? 'ok' : 'no');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Parsed bodies of what reached `path`, answered 200. */
  delivered(path: string): any[] {
    return this.at(path).filter((r) => r.status === 200).map((r) => JSON.parse(r.body));
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

export interface AlertWorld {
  readonly srv: RunningServer;
  readonly store: Store;
  readonly receiver: WebhookReceiver;
  readonly clock: FrozenClock;
  readonly tokens: Record<string, string>;
  nowS(): number;
  login(who: string): Promise<string>;
  api(who: string | { token: string }, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; body: any }>;
  introspect(token: string): Promise<any>;
  /** Every announced event through the detectors, every due delivery attempted. */
  settle(): Promise<void>;
  /** Stops the server and starts a new one on the same database and clock. */
  restart(): Promise<void>;
  events(type: string): Promise<{ seq: number; actor: string | null; subject: string | null; data: any }[]>;
  deliveries(): Promise<any[]>;
  /** Resolves once `check` returns true; the server records some things just after it answers. */
  eventually(what: string, check: () => Promise<boolean>): Promise<void>;
}

export const RESOURCE_SERVER = `Basic ${Buffer.from('resource-server:resource-server-secret-0123456789abcdef').toString('base64')}`;

/** Registers before/after hooks that start the world on `open`'s database; usable inside tests. */
export function useAlertWorld(open: OpenFn, opts: { startMs: number; alerts?: AlertServiceOptions }): AlertWorld {
  const clock = new FrozenClock(opts.startMs);
  const nowS = () => Math.floor(clock.nowMs() / 1000);
  const tokens: Record<string, string> = {};
  const receiver = new WebhookReceiver(nowS);
  const idp = new TestIdp();
  let srv: RunningServer | undefined;
  let store: Store | undefined;
  let policyPath = '';
  const env = { JITGATE_KEK: randomBytes(32).toString('base64'), ALERT_TEST_SECRET: WEBHOOK_SECRET };

  const boot = async () => {
    const text = readFileSync(policyPath, 'utf8');
    const { policy, issues } = loadPolicyText(text, { source: policyPath });
    if (!policy) throw new Error(`alert test policy invalid: ${JSON.stringify(issues)}`);
    srv = await startServer({
      policy,
      policyPath,
      dbUrl: store!.url,
      store: store!,
      clock,
      env,
      sweepEveryMs: 3_600_000,
      alerts: { random: () => 0.5, ...opts.alerts },
    });
  };
  const running = () => {
    if (!srv) throw new Error('the server is not started yet');
    return srv;
  };

  before(async () => {
    await idp.start();
    await receiver.start();
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-alerts-'));
    policyPath = join(dir, 'policy.yaml');
    const text = readFileSync(new URL('../fixtures/alerts.yaml', import.meta.url), 'utf8')
      .split('https://idp.test.invalid/jwks').join(idp.jwksUri)
      .split('https://idp.test.invalid').join(idp.issuer)
      .split('RECEIVER').join(receiver.url);
    writeFileSync(policyPath, text);
    store = await open();
    await boot();
  });
  after(async () => {
    await srv?.close();
    await receiver.close();
    await idp.close();
  });

  const w: AlertWorld = {
    get srv() {
      return running();
    },
    get store() {
      if (!store) throw new Error('no store yet');
      return store;
    },
    receiver,
    clock,
    tokens,
    nowS,
    async login(who) {
      const now = nowS();
      const idToken = await idp.idToken({ sub: who, amr: ['pwd', 'otp'], auth_time: now - 30 }, { nowS: now });
      tokens[who] = await loginWithIdToken(running().url, idToken, who);
      return tokens[who]!;
    },
    async api(who, method, path, body) {
      const token = typeof who === 'string' ? tokens[who] : who.token;
      if (!token) throw new Error(`${String(who)} is not logged in`);
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${running().url}/api/v1${path}`, { method, headers, body: body !== undefined ? JSON.stringify(body) : undefined });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
    },
    async introspect(token) {
      const res = await postForm(`${running().url}/introspect`, { token }, { authorization: RESOURCE_SERVER });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    },
    settle: () => running().alerts.settle(),
    async restart() {
      await running().close();
      srv = undefined;
      await boot();
    },
    async events(type) {
      const rows = await w.store.db.selectFrom('audit_events').select(['seq', 'actor', 'subject', 'data']).where('type', '=', type).orderBy('seq').execute();
      return rows.map((r) => ({ ...r, seq: Number(r.seq), data: JSON.parse(r.data) }));
    },
    async deliveries() {
      const rows = await w.store.db.selectFrom('webhook_deliveries').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map((r) => ({ ...r, attempts: Number(r.attempts), next_attempt_at: Number(r.next_attempt_at), path: new URL(r.url).pathname }));
    },
    async eventually(what, check) {
      for (let i = 0; i < 200; i++) {
        if (await check()) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.fail(`gave up waiting: ${what}`);
    },
  };
  return w;
}
