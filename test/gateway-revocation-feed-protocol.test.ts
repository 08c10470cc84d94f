import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { forEachDatabase } from './helpers/databases.js';
import { startTestServer, postForm, basic, type TestServer } from './helpers/server.js';
import { BILLING, GATEWAY_SECRETS, api, clientToken, elevatedToken, gatewayPolicyText } from './helpers/gateway.js';
import { SseParser, type SseMessage } from '../src/gateway/sse-parser.js';
import { FrozenClock } from '../src/util/clock.js';

const START_MS = Date.parse('2026-11-24T09:00:00Z');

interface FeedReader {
  status: number;
  contentType: string;
  events: SseMessage[];
  comments: string[];
  /** Resolves with the first event (from the start) that satisfies `pred`. */
  next(pred: (m: SseMessage) => boolean, withinMs?: number): Promise<SseMessage>;
  /** Resolves when the server has ended the stream. */
  ended: Promise<void>;
  close(): void;
}

async function openFeed(server: string, token: string | null, query = '', headers: Record<string, string> = {}): Promise<FeedReader> {
  const abort = new AbortController();
  const res = await request(`${server}/api/v1/revocations${query}`, {
    headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    signal: abort.signal,
  });
  const events: SseMessage[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const poke = () => waiters.forEach((w) => w());
  const parser = new SseParser({ message: (m) => (events.push(m), poke()), comment: (c) => (comments.push(c), poke()) });
  const ended = (async () => {
    try {
      for await (const chunk of res.body) parser.push(chunk as Buffer);
    } catch {
      // aborted by close()
    }
    poke();
  })();
  return {
    status: res.statusCode,
    contentType: String(res.headers['content-type'] ?? ''),
    events,
    comments,
    ended,
    next(pred, withinMs = 3000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(pred);
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching feed event within ${withinMs} ms; got ${JSON.stringify(events)}`));
        }, withinMs);
        waiters.add(check);
        check();
      });
    },
    close: () => abort.abort(),
  };
}

const data = (m: SseMessage) => JSON.parse(m.data);
const claims = (t: string) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString());

forEachDatabase('the revocation feed', (open) => {
  const clock = new FrozenClock(START_MS);
  let srv: TestServer;
  let policyText: string;
  const readers: FeedReader[] = [];
  const feed = async (token: string | null, query = '', headers: Record<string, string> = {}) => {
    const r = await openFeed(srv.url, token, query, headers);
    readers.push(r);
    return r;
  };
  const gatewayToken = () => clientToken(srv.url, 'jitgate-gateway');

  before(async () => {
    policyText = gatewayPolicyText({ billing: 'http://127.0.0.1:9' });
    srv = await startTestServer({ open, clock, policyText });
  });
  after(async () => {
    for (const r of readers) r.close();
    await srv?.close();
  });

  test('only clients holding jitgate:gateway may read it', async () => {
    const none = await feed(null);
    assert.equal(none.status, 401);
    const reporter = await feed(await clientToken(srv.url, 'reporter'));
    assert.equal(reporter.status, 403);
    const badCursor = await feed(await gatewayToken(), '?after=-1');
    assert.equal(badCursor.status, 400);
    const badHeartbeat = await feed(await gatewayToken(), '?heartbeat=10');
    assert.equal(badHeartbeat.status, 400);
  });

  test('backlog, ready, keep-alives, live entries, and resumption after a cursor', async () => {
    const revokedToken = await clientToken(srv.url, 'reporter', { resource: BILLING });
    const r = await postForm(`${srv.url}/revoke`, { token: revokedToken }, { authorization: basic('reporter', GATEWAY_SECRETS.reporter) });
    assert.equal(r.status, 200);

    const token = await gatewayToken();
    const first = await feed(token, '?after=0&heartbeat=250');
    assert.equal(first.status, 200);
    assert.match(first.contentType, /^text\/event-stream/);
    const ready = await first.next((m) => m.event === 'ready');
    const backlog = first.events.filter((m) => m.event === 'revocation').map(data);
    const tokenEntry = backlog.find((e) => e.kind === 'token' && e.jti === claims(revokedToken).jti);
    assert.ok(tokenEntry, JSON.stringify(backlog));
    assert.equal(tokenEntry.until, claims(revokedToken).exp, 'until is the token’s exp');
    assert.equal(tokenEntry.at, Math.floor(clock.nowMs() / 1000));
    assert.equal(tokenEntry.principal, 'client:reporter');
    const readyCursor = data(ready).cursor;
    assert.ok(readyCursor >= tokenEntry.cursor);
    assert.equal(first.events.find((m) => m.event === 'revocation' && data(m).cursor === tokenEntry.cursor)?.id, String(tokenEntry.cursor));

    // A quiet feed still speaks: keep-alive comments at the asked interval.
    const before = first.comments.length;
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => first.comments.length > before && (clearInterval(t), resolve()), 20);
      setTimeout(() => (clearInterval(t), reject(new Error('no keep-alive within 2 s'))), 2000);
    });

    // Live: a released grant arrives without reconnecting.
    const { grantId } = await elevatedToken(srv.url);
    const own = await clientToken(srv.url, 'reporter');
    assert.equal((await api(srv.url, own, 'POST', `/grants/${grantId}/release`, {})).status, 200);
    const live = data(await first.next((m) => m.event === 'revocation' && data(m).grant === grantId));
    assert.equal(live.kind, 'grant');
    assert.equal(live.principal, 'client:reporter');
    assert.ok(live.cursor > readyCursor);
    const nowS = Math.floor(clock.nowMs() / 1000);
    assert.ok(live.until > nowS && live.until <= nowS + 20 * 60, `until ${live.until} lies within the grant`);

    // Resuming after the last cursor replays nothing; Last-Event-ID works like ?after=.
    const resumed = await feed(token, `?after=${live.cursor}`);
    const resumedReady = await resumed.next((m) => m.event === 'ready');
    assert.deepEqual(resumed.events.filter((m) => m.event === 'revocation'), []);
    assert.ok(data(resumedReady).cursor >= live.cursor);
    const byHeader = await feed(token, '', { 'last-event-id': String(tokenEntry.cursor) });
    await byHeader.next((m) => m.event === 'ready');
    const replayed = byHeader.events.filter((m) => m.event === 'revocation').map(data);
    assert.ok(replayed.some((e) => e.grant === grantId));
    assert.ok(!replayed.some((e) => e.cursor <= tokenEntry.cursor));
  });

  test('a policy reload that takes scopes away appears as principal_scope', async () => {
    const reader = await feed(await gatewayToken(), '?after=0');
    await reader.next((m) => m.event === 'ready');
    await srv.rewritePolicy(policyText.replace('baseline: [read:billing, read:logs]', 'baseline: [read:logs]'));
    try {
      const entry = data(await reader.next((m) => m.event === 'revocation' && data(m).kind === 'principal_scope'));
      const nowS = Math.floor(clock.nowMs() / 1000);
      assert.equal(entry.principal, 'client:reporter');
      assert.deepEqual(entry.scopes, ['read:billing']);
      assert.equal(entry.at, nowS);
      assert.ok(entry.until >= nowS + srv.ctx.config.tokenLifetimeS);
    } finally {
      await srv.rewritePolicy(policyText);
    }
  });

  test('the stream ends when the reader’s token expires, and entries past their until are not replayed', async () => {
    const token = await gatewayToken();
    const reader = await feed(token, '?after=0&heartbeat=250');
    await reader.next((m) => m.event === 'ready');
    clock.set((claims(token).exp + 301) * 1000);
    const end = await reader.next((m) => m.event === 'end');
    assert.deepEqual(data(end), { reason: 'token_expired' });
    await reader.ended;

    const later = await feed(await gatewayToken(), '?after=0');
    await later.next((m) => m.event === 'ready');
    const kinds = later.events.filter((m) => m.event === 'revocation').map((m) => data(m).kind);
    assert.ok(!kinds.includes('token'), `the revoked token has long expired: ${kinds}`);
  });
});
