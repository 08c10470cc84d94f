import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadPolicyFile } from '../../src/policy/load.js';
import { decide } from '../../src/policy/decide.js';
import {
  APPROVER_CLIENT_ID,
  APPROVER_CLIENT_SECRET,
  BENCH_RESOURCE,
  ELEVATED_MAX_TTL_S,
  ELEVATED_SCOPE,
  REQUESTER_CLIENT_ID,
  REQUESTER_CLIENT_SECRET,
} from '../../bench/lib/fixture.js';

const POLICY = fileURLToPath(new URL('../../bench/policy.yaml', import.meta.url));
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

test('bench/policy.yaml lets the requester ask for the elevated scope and the approver approve it', async () => {
  const now = Date.UTC(2026, 0, 15) / 1000;
  const { policy, issues } = await loadPolicyFile(POLICY, { now });
  assert.deepEqual(issues, []);
  assert.ok(policy);

  const requester = policy.clients.get(REQUESTER_CLIENT_ID);
  const approver = policy.clients.get(APPROVER_CLIENT_ID);
  assert.ok(requester && approver);
  for (const [client, secret] of [[requester, REQUESTER_CLIENT_SECRET], [approver, APPROVER_CLIENT_SECRET]] as const) {
    assert.equal(client.public, false);
    assert.ok(secret.length >= 32);
    assert.equal(client.secretSha256, sha256(secret));
  }
  assert.notEqual(REQUESTER_CLIENT_SECRET, APPROVER_CLIENT_SECRET);

  const scope = policy.scopes.get(ELEVATED_SCOPE);
  assert.ok(scope, 'the elevated scope is declared');
  // Clients cannot satisfy MFA, so an MFA scope would refuse every bench request.
  assert.equal(scope.mfa, false);
  assert.equal(scope.maxTtlS, ELEVATED_MAX_TTL_S);
  assert.ok(policy.resources.get(BENCH_RESOURCE)?.scopes.includes(ELEVATED_SCOPE));
  assert.deepEqual(policy.groupsOf.get(`client:${APPROVER_CLIENT_ID}`), ['bench-approvers']);

  const decision = decide(
    policy,
    {
      principal: `client:${REQUESTER_CLIENT_ID}`,
      scopes: [ELEVATED_SCOPE],
      resource: BENCH_RESOURCE,
      durationS: 300,
      reason: 'benchmark cycle number 1 of worker 0',
      ticket: null,
      context: {},
    },
    { epochMs: now * 1000 },
    { timesHeld: new Map() },
  );
  assert.equal(decision.outcome, 'stages');
  assert.deepEqual(
    decision.stages?.map((s) => ({ approvers: s.approvers, count: s.count })),
    [{ approvers: ['bench-approvers'], count: 1 }],
  );
});
