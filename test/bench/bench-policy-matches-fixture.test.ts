import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadPolicyFile } from '../../src/policy/load.js';
import { BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, BENCH_RESOURCE, BENCH_SCOPE, basicAuthorization } from '../../bench/lib/fixture.js';

const POLICY = fileURLToPath(new URL('../../bench/policy.yaml', import.meta.url));

test('bench/policy.yaml loads cleanly and admits the bench client with the fixture secret', async () => {
  const loaded = await loadPolicyFile(POLICY, { now: Date.UTC(2026, 0, 15) / 1000 });
  assert.deepEqual(loaded.issues, []);
  const policy = loaded.policy;
  assert.ok(policy);
  const client = policy.clients.get(BENCH_CLIENT_ID);
  assert.ok(client, 'the bench client exists');
  assert.equal(client.public, false);
  assert.ok(BENCH_CLIENT_SECRET.length >= 32);
  assert.equal(client.secretSha256, createHash('sha256').update(BENCH_CLIENT_SECRET).digest('hex'));
  assert.ok(client.baseline.includes(BENCH_SCOPE));
  assert.ok(policy.resources.get(BENCH_RESOURCE)?.scopes.includes(BENCH_SCOPE), 'the resource accepts the scope');
});

test('client_secret_basic header form-encodes id and secret', () => {
  const header = basicAuthorization('a b', 'p:w+');
  assert.equal(Buffer.from(header.slice('Basic '.length), 'base64').toString(), 'a+b:p%3Aw%2B');
});
