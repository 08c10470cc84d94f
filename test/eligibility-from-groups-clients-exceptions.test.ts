import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eligibleScopes, expandRequest } from '../src/access/eligibility.js';
import { MONDAY_10_BERLIN, accessPolicy } from './fixtures/access-policy.js';

const policy = accessPolicy();
const NOW = MONDAY_10_BERLIN;
const EXCEPTION_ENDS = Date.UTC(2026, 2, 10) / 1000;

const sorted = (s: Set<string>) => [...s].sort();

test('group eligibility expands bundles; a bundle is requestable when all its scopes are eligible', () => {
  const alice = eligibleScopes(policy, 'user:alice', NOW);
  assert.deepEqual(sorted(alice.scopes), ['deploy:prod', 'night:batch', 'read:audit', 'read:logs']);
  assert.deepEqual(alice.bundles, ['incident-response']);
  const erin = eligibleScopes(policy, 'user:erin', NOW);
  assert.deepEqual(sorted(erin.scopes), ['admin:billing', 'export:billing', 'read:billing']);
  assert.deepEqual(erin.bundles, ['billing-ops']);
});

test('baseline scopes are held, not eligible', () => {
  const carol = eligibleScopes(policy, 'user:carol', NOW);
  assert.deepEqual(sorted(carol.scopes), ['deploy:prod']);
  assert.deepEqual(carol.bundles, [], 'incident-response needs read:logs, which carol holds but may not request');
});

test('a client principal gets its client entry\'s eligible scopes; a user of the same name does not', () => {
  assert.deepEqual(sorted(eligibleScopes(policy, 'client:ci-pipeline', NOW).scopes), ['deploy:prod']);
  assert.deepEqual(sorted(eligibleScopes(policy, 'user:ci-pipeline', NOW).scopes), []);
});

test('an exception makes its scopes eligible strictly before it expires', () => {
  assert.ok(eligibleScopes(policy, 'user:bob', EXCEPTION_ENDS - 1).scopes.has('read:billing'));
  assert.ok(!eligibleScopes(policy, 'user:bob', EXCEPTION_ENDS).scopes.has('read:billing'));
  assert.ok(!eligibleScopes(policy, 'user:alice', NOW).scopes.has('read:billing'), 'the exception is bob\'s alone');
});

test('a principal the policy does not know is eligible for nothing', () => {
  const none = eligibleScopes(policy, 'user:mallory', NOW);
  assert.equal(none.scopes.size, 0);
  assert.deepEqual(none.bundles, []);
});

test('expandRequest drops duplicates in order and copies bundle members', () => {
  const scopes = expandRequest(policy, { scopes: ['deploy:prod', 'read:logs', 'deploy:prod'] });
  assert.deepEqual(scopes, { ok: true, scopes: ['deploy:prod', 'read:logs'], bundle: null });
  const bundle = expandRequest(policy, { bundle: 'incident-response' });
  assert.ok(bundle.ok);
  bundle.scopes.push('admin:billing');
  assert.deepEqual(policy.bundles.get('incident-response'), ['read:logs', 'deploy:prod']);
});

test('expandRequest refuses both, neither, and unknown names with stable codes', () => {
  const codes = [
    expandRequest(policy, { scopes: ['read:logs'], bundle: 'incident-response' }),
    expandRequest(policy, {}),
    expandRequest(policy, { scopes: ['nope'] }),
    expandRequest(policy, { bundle: 'nope' }),
  ].map((r) => (r.ok ? 'ok' : `${r.error.code}/${r.error.status}`));
  assert.deepEqual(codes, ['bundle_and_scopes/400', 'scopes_required/400', 'scope_unknown/422', 'bundle_unknown/422']);
});
