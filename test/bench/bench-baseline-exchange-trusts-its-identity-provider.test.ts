import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenExchangeBaseline } from '../../bench/cases/token-exchange-baseline.js';
import { jwtClaims } from '../../bench/lib/elevation-steps.js';
import type { LoadCase, MeasureSettings, Subject } from '../../bench/lib/types.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHORT: MeasureSettings = { connections: 1, warmupS: 1, durationS: 1 };

test('token_exchange_baseline: the server it starts trusts its identity provider, and the load answers a baseline token for the mapped person', async () => {
  const [exchange, reference] = (tokenExchangeBaseline as LoadCase).subjects({ pg: false }) as [Subject, Subject];
  assert.equal(reference.role, 'peer');
  assert.equal(reference.target, undefined, 'client_credentials is for reference');
  assert.deepEqual(reference.against, [exchange.server.id]);

  const workDir = await mkdtemp(join(tmpdir(), 'jitgate-bench-test-'));
  const server = await exchange.server.start({ workDir, rootDir: ROOT, pgUrl: '' });
  try {
    await assert.rejects(exchange.prepare(server, { ...SHORT, durationS: 7200 }), /shorten --duration/);
    const plan = await exchange.prepare(server, SHORT);
    assert.equal(plan.headers.authorization, undefined, 'a public client sends no credentials');
    const res = await fetch(plan.url, { method: plan.method, headers: plan.headers, body: plan.bodies[0] });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.ok(text.includes(plan.expectBody));
    const claims = jwtClaims((JSON.parse(text) as { access_token: string }).access_token);
    assert.equal(claims?.sub, 'user:bench-person');
    assert.equal(claims?.client_id, 'bench-cli');
    assert.equal(claims?.scope, 'read:logs');
    assert.equal(claims?.grant, undefined, 'a baseline token names no grant');
  } finally {
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  }
  // Stopped with the server: nothing is left listening to hand out ID tokens.
  await assert.rejects(exchange.prepare(server, SHORT), /identity provider is not running/);
});
