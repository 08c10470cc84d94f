/**
 * A running server with the test identity provider and a frozen clock, and
 * the calls the elevation tests make against it: people log in through the
 * IdP (with or without MFA), clients through client_credentials, and then
 * drive the REST API, the token exchange and introspection over HTTP.
 */
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestServer, postForm, basic, SECRETS, loginWithIdToken, type TestServer } from './server.js';
import { TestIdp } from './idp.js';
import type { OpenFn } from './databases.js';
import { FrozenClock } from '../../src/util/clock.js';
import type { ServerConfig } from '../../src/http/config.js';

export const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const RESOURCE_SERVER = basic('resource-server', SECRETS['resource-server']);

/** A Tuesday, 10:00 in Europe/Berlin: inside the fixtures' business hours. */
export const TUESDAY_10_BERLIN_MS = Date.parse('2026-11-24T09:00:00Z');

/** A fixture policy's text by file name (test/fixtures/NAME). */
export function fixturePolicy(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
}

export interface LoginOptions {
  /** Sign in with a second factor (`amr: ['pwd', 'otp']`). Default true. */
  mfa?: boolean;
  /** How long ago the person authenticated, seconds. Default 30. */
  authAgeS?: number;
}

export interface ElevationServer {
  readonly srv: TestServer;
  readonly idp: TestIdp;
  readonly clock: FrozenClock;
  /** The latest token of each person or client logged in, by name. */
  readonly tokens: Record<string, string>;
  /** Epoch seconds of the frozen clock. */
  nowS(): number;
  /** Logs `who` in through the IdP (principal `user:<who>`) and keeps the token under `who`. */
  login(who: string, opts?: LoginOptions): Promise<string>;
  /** A client_credentials token of a fixture client, kept under `client:<id>`. */
  clientToken(id: keyof typeof SECRETS, extra?: Record<string, string>): Promise<string>;
  /** Calls the REST API as `who` (a name in `tokens`) or with a raw token. */
  api(who: string | { token: string | null }, method: string, path: string, body?: unknown): Promise<ApiResponse>;
  /** RFC 8693 exchange of `subjectToken` for `scope` (via the public CLI client). */
  exchange(subjectToken: string, scope: string, resource?: string): Promise<ApiResponse>;
  /** Introspection by the resource server client. */
  introspect(token: string): Promise<any>;
  /**
   * Rows an access request and its grant write: requests, grants, and their
   * `request.*`/`grant.*` audit events (token events, such as the record of a
   * revoked token presented again, belong to other flows).
   */
  counts(): Promise<{ requests: number; grants: number; events: number }>;
  /** Audit events of a type, oldest first, with their data parsed. */
  events(type: string): Promise<{ seq: number; at: string; actor: string | null; subject: string | null; data: any }[]>;
}

export interface ElevationServerOptions {
  policyText?: string;
  config?: Partial<Omit<ServerConfig, 'issuer'>>;
  startMs?: number;
}

/**
 * Registers before/after hooks in the calling suite that start a server on
 * `open`'s database and stop it; the returned object is usable inside tests.
 */
export function useElevationServer(open: OpenFn, opts: ElevationServerOptions = {}): ElevationServer {
  const clock = new FrozenClock(opts.startMs ?? TUESDAY_10_BERLIN_MS);
  const tokens: Record<string, string> = {};
  let srv: TestServer | undefined;
  let idp: TestIdp | undefined;
  const running = () => {
    if (!srv) throw new Error('the server is not started yet');
    return srv;
  };
  const nowS = () => Math.floor(clock.nowMs() / 1000);

  before(async () => {
    idp = await new TestIdp().start();
    srv = await startTestServer({
      open,
      clock,
      policyText: opts.policyText,
      config: opts.config,
      substitute: { 'https://idp.test.invalid/jwks': idp.jwksUri, 'https://idp.test.invalid': idp.issuer },
    });
  });
  after(async () => {
    await srv?.close();
    await idp?.close();
  });

  const h: ElevationServer = {
    get srv() {
      return running();
    },
    get idp() {
      if (!idp) throw new Error('the identity provider is not started yet');
      return idp;
    },
    clock,
    tokens,
    nowS,
    async login(who, { mfa = true, authAgeS = 30 } = {}) {
      const now = nowS();
      const claims = mfa ? { amr: ['pwd', 'otp'], auth_time: now - authAgeS } : { amr: ['pwd'], auth_time: now - authAgeS };
      const idToken = await h.idp.idToken({ sub: who, ...claims }, { nowS: now });
      tokens[who] = await loginWithIdToken(running().url, idToken, who);
      return tokens[who]!;
    },
    async clientToken(id, extra = {}) {
      const res = await postForm(
        `${running().url}/token`,
        { grant_type: 'client_credentials', ...extra },
        { authorization: basic(id, SECRETS[id]) },
      );
      assert.equal(res.status, 200, `client_credentials of ${id}: ${JSON.stringify(res.body)}`);
      tokens[`client:${id}`] = res.body.access_token as string;
      return tokens[`client:${id}`]!;
    },
    async api(who, method, path, body) {
      const token = typeof who === 'string' ? tokens[who] : who.token;
      if (typeof who === 'string' && !token) throw new Error(`${who} is not logged in`);
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${running().url}/api/v1${path}`, {
        method,
        headers,
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
    },
    async exchange(subjectToken, scope, resource) {
      return postForm(`${running().url}/token`, {
        grant_type: EXCHANGE,
        client_id: 'jitgate-cli',
        subject_token: subjectToken,
        subject_token_type: ACCESS_TOKEN_TYPE,
        scope,
        ...(resource ? { resource } : {}),
      });
    },
    async introspect(token) {
      const res = await postForm(`${running().url}/introspect`, { token }, { authorization: RESOURCE_SERVER });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    },
    async counts() {
      const db = running().ctx.store.db;
      const count = async (table: 'access_requests' | 'grants') => {
        const row = await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
        return Number(row.n);
      };
      const events = await db
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll().as('n'))
        .where((eb) => eb.or([eb('type', 'like', 'request.%'), eb('type', 'like', 'grant.%')]))
        .executeTakeFirstOrThrow();
      return { requests: await count('access_requests'), grants: await count('grants'), events: Number(events.n) };
    },
    async events(type) {
      const rows = await running()
        .ctx.store.db.selectFrom('audit_events')
        .select(['seq', 'at', 'actor', 'subject', 'data'])
        .where('type', '=', type)
        .orderBy('seq')
        .execute();
      return rows.map((r) => ({ ...r, seq: Number(r.seq), data: typeof r.data === 'string' ? JSON.parse(r.data) : r.data }));
    },
  };
  return h;
}

/** The claims of a compact JWT, unverified (the tests only read what the server put there). */
export function claimsOf(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

/** Asserts an RFC 9457 answer with this status and stable code. */
export function assertProblem(res: ApiResponse, status: number, code: string, message?: string): void {
  const what = `${message ?? code}: ${JSON.stringify(res.body)}`;
  assert.equal(res.status, status, what);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, what);
  assert.equal(res.body.code, code, what);
  assert.equal(res.body.type, `urn:jitgate:problem:${code}`, what);
  assert.equal(res.body.status, status, what);
  assert.equal(typeof res.body.detail, 'string', what);
}
