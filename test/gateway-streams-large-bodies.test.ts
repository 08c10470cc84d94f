import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { databases } from './helpers/databases.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { cliPerson, type CliPerson, type RunningCli } from './helpers/cli.js';
import { BILLING, GATEWAY_ENV, GATEWAY_SECRETS, call, clientToken, gatewayPolicyText, startUpstream, type Upstream } from './helpers/gateway.js';

const MIB = 1024 * 1024;
const SIZE = 100 * MIB;
/**
 * Below the body size, so a gateway holding a body whole could not stay
 * under it. The margin is for garbage not yet collected: socket reads
 * allocate a fresh buffer per chunk, and 20–50 MiB of them can wait for the
 * next collection (a 400 MiB upload grows the process no more than 100 MiB does).
 */
const RSS_BOUND = 80 * MIB;
const sqlite = databases.find((d) => d.dialect === 'sqlite')!;
const procStatus = (pid: number) => `/proc/${pid}/status`;

function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(procStatus(pid), 'utf8'));
  if (!m) throw new Error('no VmRSS');
  return Number(m[1]) * 1024;
}

/** Runs `fn` while sampling the process's RSS; returns fn's result and the largest growth seen. */
async function peakGrowth<T>(pid: number, fn: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const base = rssOf(pid);
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
  try {
    const result = await fn();
    peak = Math.max(peak, rssOf(pid));
    return { result, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

test('100 MiB bodies stream through the gateway process both ways with flat memory', { skip: existsSync('/proc/self/status') ? false : 'needs /proc to read the gateway’s RSS' }, async (t) => {
  let upstream: Upstream | undefined;
  let srv: TestServer | undefined;
  let person: CliPerson | undefined;
  let gateway: RunningCli | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-gateway-'));
  t.after(async () => {
    gateway?.child.kill('SIGTERM');
    await gateway?.done;
    person?.cleanup();
    await srv?.close();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  upstream = await startUpstream();
  const text = gatewayPolicyText({ billing: upstream.url });
  srv = await startTestServer({ open: () => sqlite.open(), policyText: text });
  const policyPath = join(dir, 'policy.yaml');
  writeFileSync(policyPath, text);

  // The real CLI verb, as an operator runs it.
  person = cliPerson('gateway');
  gateway = person.start(
    ['gateway', '--policy', policyPath, '--server', srv.url, '--port', '0', '--client-id', 'jitgate-gateway', '--resource', BILLING, '--log-level', 'warn'],
    { env: { JITGATE_GATEWAY_CLIENT_SECRET: GATEWAY_SECRETS['jitgate-gateway'], ...GATEWAY_ENV } },
  );
  await gateway.waitForStderr(/revocation feed connected/);
  const url = /listening on (http:\/\/\S+)/.exec(gateway.stderr)![1]!;
  const pid = gateway.child.pid!;

  const token = await clientToken(srv.url, 'reporter', { resource: BILLING });
  // Warm up: the first request compiles the paths it takes.
  assert.equal((await call(url, { path: '/invoices/1', token, host: 'localhost' })).status, 200);
  assert.equal((await call(url, { method: 'PUT', path: '/uploads/warm', token, body: 'x'.repeat(1 << 20) })).status, 200);

  const chunk = Buffer.alloc(64 * 1024, 0x62);
  const up = await peakGrowth(pid, async () => {
    const body = Readable.from(
      (function* () {
        for (let sent = 0; sent < SIZE; sent += chunk.length) yield chunk;
      })(),
    );
    const res = await request(`${url}/uploads/big.bin`, {
      method: 'PUT',
      headers: { host: 'billing.internal', authorization: `Bearer ${token}`, 'content-length': String(SIZE), 'content-type': 'application/octet-stream' },
      body,
    });
    return { status: res.statusCode, body: (await res.body.json()) as { bytes: number } };
  });
  assert.equal(up.result.status, 200);
  assert.equal(up.result.body.bytes, SIZE, 'every byte reached the upstream');
  assert.equal(upstream.seen.at(-1)?.headers['content-length'], String(SIZE));

  const down = await peakGrowth(pid, async () => {
    const res = await request(`${url}/invoices/big?bytes=${SIZE}`, { headers: { host: 'billing.internal', authorization: `Bearer ${token}` } });
    let bytes = 0;
    for await (const part of res.body) bytes += (part as Buffer).length;
    return { status: res.statusCode, bytes, length: res.headers['content-length'] };
  });
  assert.equal(down.result.status, 200);
  assert.equal(down.result.bytes, SIZE, 'every byte reached the caller');
  assert.equal(down.result.length, String(SIZE));

  t.diagnostic(`gateway RSS growth: upload ${(up.growth / MIB).toFixed(1)} MiB, download ${(down.growth / MIB).toFixed(1)} MiB (bound ${RSS_BOUND / MIB} MiB)`);
  assert.ok(up.growth < RSS_BOUND, `upload grew the gateway by ${(up.growth / MIB).toFixed(1)} MiB`);
  assert.ok(down.growth < RSS_BOUND, `download grew the gateway by ${(down.growth / MIB).toFixed(1)} MiB`);
});

