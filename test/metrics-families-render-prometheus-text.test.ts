import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { CounterFamily, HistogramFamily } from '../src/metrics/families.js';
import { MetricsAccess } from '../src/metrics/metrics-access.js';
import { requestIdOf } from '../src/metrics/request-id.js';
import { gatewayReadiness } from '../src/metrics/gateway-readiness.js';
import { readinessAnswer } from '../src/metrics/readiness.js';

test('counters and histograms render as Prometheus text: cumulative buckets, le inclusive, sum and count', async () => {
  const r = new Registry();
  const c = new CounterFamily(r, 'x_total', 'things', ['kind']);
  const a = c.cell('a');
  a.inc();
  a.inc(2);
  assert.equal(c.cell('a'), a, 'one cell per label set');
  const h = new HistogramFamily(r, 'x_seconds', 'time', ['route'], [0.1, 1]);
  const cell = h.cell('/r');
  for (const v of [0.05, 0.1, 0.5, 3]) cell.observe(v);
  const text = await r.metrics();
  assert.match(text, /^# HELP x_total things\n# TYPE x_total counter\nx_total\{kind="a"\} 3$/m);
  assert.match(text, /# TYPE x_seconds histogram/);
  assert.match(text, /^x_seconds_bucket\{route="\/r",le="0.1"\} 2$/m, 'a value equal to a bound falls in that bucket');
  assert.match(text, /^x_seconds_bucket\{route="\/r",le="1"\} 3$/m);
  assert.match(text, /^x_seconds_bucket\{route="\/r",le="\+Inf"\} 4$/m);
  assert.match(text, /^x_seconds_sum\{route="\/r"\} 3.65$/m);
  assert.match(text, /^x_seconds_count\{route="\/r"\} 4$/m);
  assert.throws(() => new CounterFamily(r, 'x_total', 'again', []), /already been registered/);
});

test('metrics access: loopback without proxy headers, or the token and only the token', () => {
  const open = new MetricsAccess(null);
  assert.equal(open.check('127.0.0.1', {}).ok, true);
  assert.equal(open.check('::1', {}).ok, true);
  assert.equal(open.check('::ffff:127.0.0.1', {}).ok, true);
  assert.equal(open.check('10.0.0.5', {}).ok, false);
  assert.equal(open.check('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }).ok, false);
  assert.equal(open.check('127.0.0.1', { forwarded: 'for=203.0.113.9' }).ok, false);
  const secret = 'metrics-token-0123456789';
  const closed = new MetricsAccess(secret);
  assert.equal(closed.check('127.0.0.1', {}).ok, false, 'loopback needs the token too');
  assert.equal(closed.check('10.0.0.5', { authorization: `Bearer ${secret}` }).ok, true);
  assert.equal(closed.check('10.0.0.5', { authorization: `Bearer ${secret.slice(1)}` }).ok, false);
  assert.equal(closed.check('10.0.0.5', { authorization: `Basic ${secret}` }).ok, false);
  assert.throws(() => new MetricsAccess('short'), (e: any) => e.code === 'metrics_token_weak');
});

test('request ids: plain tokens are kept, anything else is replaced by a UUID', () => {
  assert.equal(requestIdOf('abc-123_x.y:z'), 'abc-123_x.y:z');
  for (const bad of [undefined, '', ' lead', 'a b', 'a"b', 'x\ny', 'é', 'a'.repeat(129), ['a', 'b']]) {
    assert.match(requestIdOf(bad as never), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, JSON.stringify(bad));
  }
});

test('gateway readiness names every missing piece', () => {
  const ok = { jwksLoaded: true, feedConnected: true, feedAgeMs: 10, feedMaxAgeMs: 5000, resources: 1 };
  assert.equal(readinessAnswer(gatewayReadiness(ok)).status, 200);
  const answer = readinessAnswer(gatewayReadiness({ ...ok, feedConnected: false, resources: 0 }));
  assert.equal(answer.status, 503);
  assert.equal(answer.body.detail, 'not ready: revocation_feed (disconnected); policy (no resource to serve)');
  assert.deepEqual(answer.body.checks, { jwks: 'ok', revocation_feed: 'not ready: disconnected', policy: 'not ready: no resource to serve' });
});
