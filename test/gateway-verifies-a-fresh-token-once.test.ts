import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { forEachDatabase } from './helpers/databases.js';
import { BILLING, clientToken, gatewayPolicyText, parsePolicy } from './helpers/gateway.js';
import { startServer, type RunningServer } from '../src/http/server.js';
import { TokenVerifier } from '../src/gateway/token-verifier.js';
import { systemClock } from '../src/util/clock.js';
import type { Store } from '../src/store/open.js';

forEachDatabase('concurrent requests with a token not yet cached share one signature check', (open) => {
  let store: Store;
  let server: RunningServer;
  let issuer: string;
  let jwksUri: string;

  before(async () => {
    const text = gatewayPolicyText({ billing: 'http://127.0.0.1:9' });
    store = await open();
    server = await startServer({ policy: parsePolicy(text), dbUrl: store.url, store, env: { JITGATE_KEK: randomBytes(32).toString('base64') } });
    const meta = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string; jwks_uri: string };
    issuer = meta.issuer;
    jwksUri = meta.jwks_uri;
  });
  after(async () => {
    await server?.close();
  });

  test('fifty concurrent verifications of one fresh token yield one verified entry, then cache hits', async () => {
    let hits = 0;
    let misses = 0;
    const verifier = new TokenVerifier({ issuer, jwksUri, clock: systemClock, cacheStats: { hits: { inc: () => hits++ }, misses: { inc: () => misses++ } } });
    const token = await clientToken(server.url, 'reporter', { resource: BILLING });
    const results = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(token)));
    const entries = new Set(results.map((r) => (r.ok ? r.token : null)));
    assert.equal(entries.size, 1, 'each concurrent request verified the token on its own');
    assert.ok(results.every((r) => r.ok));
    assert.equal(verifier.cachedTokens, 1);
    const again = await verifier.verify(token);
    assert.ok(again.ok && entries.has(again.token));
    assert.equal(hits, 1);
    assert.equal(misses, 50);
  });

  test('a refused token is refused for every concurrent caller, and not cached', async () => {
    const verifier = new TokenVerifier({ issuer, jwksUri, clock: systemClock });
    const token = await clientToken(server.url, 'reporter', { resource: BILLING });
    const [h, p, s] = token.split('.');
    const forged = `${h}.${p}.${s!.slice(0, -4)}AAAA`;
    const results = await Promise.all(Array.from({ length: 10 }, () => verifier.verify(forged)));
    assert.ok(results.every((r) => !r.ok && r.code === 'invalid_token'));
    assert.equal(verifier.cachedTokens, 0);
    // Settled verifications are forgotten: the genuine token still verifies.
    assert.ok((await verifier.verify(token)).ok);
  });
});
