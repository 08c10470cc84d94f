import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { Agent } from 'undici';
import { signatureHeader, verifySignature } from '../src/alerts/signature.js';
import { DEFAULT_RETRY_SCHEDULE, retryDelayS } from '../src/alerts/retry-schedule.js';
import { webhookBody } from '../src/alerts/webhook-payload.js';
import { sendWebhook, redactUrl } from '../src/alerts/webhook-sender.js';
import type { AlertView } from '../src/alerts/alert.js';

const SECRET = 'a-webhook-secret-of-some-length-0123456789';

test('the signature is HMAC-SHA256 over "<t>.<body>", verified in constant time within a tolerance', () => {
  const body = '{"kind":"alert","type":"off_hours"}';
  const header = signatureHeader(SECRET, 1_800_000_000, body);
  const hex = createHmac('sha256', SECRET).update(`1800000000.${body}`).digest('hex');
  assert.equal(header, `t=1800000000,v1=${hex}`);
  assert.equal(verifySignature(header, body, SECRET, 1_800_000_000), true);
  assert.equal(verifySignature(header, body, SECRET, 1_800_000_299), true);
  assert.equal(verifySignature(header, body, SECRET, 1_800_000_301), false, 'too old: a replay');
  assert.equal(verifySignature(header, body, SECRET, 1_799_999_699), false, 'from the future');
  assert.equal(verifySignature(header, `${body} `, SECRET, 1_800_000_000), false, 'body changed');
  assert.equal(verifySignature(header, body, `${SECRET}x`, 1_800_000_000), false, 'another secret');
  assert.equal(verifySignature(header.replace('t=1800000000', 't=1800000001'), body, SECRET, 1_800_000_000), false, 'time changed');
  assert.equal(verifySignature(undefined, body, SECRET, 1_800_000_000), false);
  assert.equal(verifySignature('v1=abc', body, SECRET, 1_800_000_000), false);
  // A receiver may see a second v1 during secret rotation; any valid one counts.
  assert.equal(verifySignature(`${header},v1=${'0'.repeat(64)}`, body, SECRET, 1_800_000_000), true);
});

test('retries back off exponentially with jitter: 5 attempts over about two minutes by default', () => {
  const mid = [1, 2, 3, 4, 5].map((n) => retryDelayS(n, DEFAULT_RETRY_SCHEDULE, 0.5));
  assert.deepEqual(mid, [8, 16, 32, 64, null]);
  const total = (mid.slice(0, 4) as number[]).reduce((a, b) => a + b, 0);
  assert.equal(total, 120);
  // ±20 %.
  assert.equal(retryDelayS(4, DEFAULT_RETRY_SCHEDULE, 0), 51);
  assert.equal(retryDelayS(4, DEFAULT_RETRY_SCHEDULE, 0.999999), 77);
  const custom = { maxAttempts: 8, baseDelayS: 10, maxDelayS: 60, jitter: 0 };
  assert.deepEqual([1, 2, 3, 4, 7, 8].map((n) => retryDelayS(n, custom, 0.3)), [10, 20, 40, 60, 60, null]);
});

const ALERT: AlertView = {
  id: 'al_1',
  seq: 42,
  type: 'break_glass',
  severity: 'critical',
  at: '2026-12-01T09:00:00.000Z',
  principal: 'user:<erin>',
  summary: 'break-glass access to db:write granted to user:<erin> & co',
  details: { scopes: ['db:write'] },
  event_seq: 40,
};

test('payloads: JSON is the alert with its kind; Slack gets {text, blocks} with mrkdwn control characters escaped', () => {
  assert.deepEqual(JSON.parse(webhookBody({ kind: 'alert', alert: ALERT }, 'json')), { kind: 'alert', ...ALERT });
  const slack = JSON.parse(webhookBody({ kind: 'alert', alert: ALERT }, 'slack'));
  assert.deepEqual(Object.keys(slack).sort(), ['blocks', 'text']);
  assert.match(slack.text, /^jitgate alert break_glass \(critical\): /);
  const section = slack.blocks[0].text.text as string;
  assert.match(section, /user:&lt;erin&gt; &amp; co/);
  assert.doesNotMatch(section, /<erin>/);
});

test('sending: 2xx is success; a redirect is not followed; errors and timeouts are failures that never name the URL', async () => {
  let redirectedHits = 0;
  const server = createServer((req, res) => {
    if (req.url === '/ok') return void res.writeHead(204).end();
    if (req.url === '/moved') return void res.writeHead(302, { location: '/elsewhere' }).end();
    if (req.url === '/elsewhere') {
      redirectedHits++;
      return void res.writeHead(200).end();
    }
    if (req.url?.startsWith('/slow')) return; // never answers
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const agent = new Agent();
  try {
    assert.deepEqual(await sendWebhook(agent, `${base}/ok`, '{}', {}, 2000), { ok: true, status: 204, error: null });
    assert.deepEqual(await sendWebhook(agent, `${base}/moved`, '{}', {}, 2000), { ok: false, status: 302, error: 'HTTP 302: redirect not followed' });
    assert.equal(redirectedHits, 0);
    assert.deepEqual(await sendWebhook(agent, `${base}/fail`, '{}', {}, 2000), { ok: false, status: 500, error: 'HTTP 500' });
    const slow = await sendWebhook(agent, `${base}/slow/secret-path`, '{}', {}, 150);
    assert.equal(slow.ok, false);
    assert.equal(slow.status, null);
    assert.doesNotMatch(slow.error!, /secret-path/);
    const refused = await sendWebhook(agent, 'http://127.0.0.1:9/hook', '{}', {}, 2000);
    assert.equal(refused.ok, false);
    assert.match(refused.error!, /ECONNREFUSED/);
  } finally {
    await agent.close().catch(() => {});
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
  assert.equal(redactUrl('https://hooks.slack.com/services/T0/B0/secret'), 'https://hooks.slack.com/…');
});
