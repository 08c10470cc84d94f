import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPolicyFile, loadPolicyOrThrow, loadPolicyText, PolicyInvalidError } from '../src/policy/load.js';
import { JitgateError } from '../src/util/errors.js';

const EXAMPLE = fileURLToPath(new URL('../examples/policy.yaml', import.meta.url));
const NOW = Date.UTC(2026, 0, 15, 12) / 1000;
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

async function example() {
  const loaded = await loadPolicyFile(EXAMPLE, { now: NOW });
  assert.deepEqual(loaded.issues, [], 'the example has no findings');
  assert.ok(loaded.policy);
  return loaded.policy;
}

test('the example loads without findings and its hash is the SHA-256 of its bytes', async () => {
  const policy = await example();
  assert.equal(policy.hash, sha256(readFileSync(EXAMPLE)));
  assert.equal((await example()).hash, policy.hash, 'the hash is stable across loads');
  const text = readFileSync(EXAMPLE, 'utf8');
  assert.equal(loadPolicyText(text, { now: NOW }).policy?.hash, policy.hash, 'text and file hash alike');
  const touched = loadPolicyText(`${text}# reviewed\n`, { now: NOW });
  assert.notEqual(touched.policy?.hash, policy.hash, 'any byte changes the version');
});

test('the example keeps the design: version, time zone, business hours', async () => {
  const policy = await example();
  assert.equal(policy.version, 1);
  assert.equal(policy.timezone, 'Europe/Berlin');
  assert.deepEqual(policy.businessHours, { days: ['mon', 'tue', 'wed', 'thu', 'fri'], fromMin: 8 * 60, toMin: 19 * 60 });
  assert.equal(policy.defaultDecision, 'deny');
  assert.deepEqual(policy.trustedIssuers, [
    {
      issuer: 'https://idp.example.com',
      jwksUri: 'https://idp.example.com/jwks',
      audience: 'jitgate',
      subject: 'user:{sub}',
      mfaAmr: ['mfa', 'otp', 'hwk'],
    },
  ]);
});

test('scopes: durations in seconds, ticket patterns compiled, allowed hours resolved', async () => {
  const policy = await example();
  assert.deepEqual([...policy.scopes.keys()], [
    'read:logs', 'read:billing', 'deploy:prod', 'admin:billing', 'jitgate:audit', 'jitgate:admin',
  ]);
  assert.equal(policy.scopes.get('read:logs')?.maxTtlS, null);
  assert.equal(policy.scopes.get('read:billing')?.maxTtlS, 8 * 3600);
  assert.equal(policy.scopes.get('deploy:prod')?.maxTtlS, 3600);
  assert.equal(policy.scopes.get('admin:billing')?.maxTtlS, 1800);
  const deploy = policy.scopes.get('deploy:prod');
  assert.equal(deploy?.risk, 'high');
  assert.equal(deploy?.mfa, true);
  assert.equal(deploy?.ticketPattern, '^(OPS|INC)-[0-9]+$');
  assert.equal(deploy?.ticket?.test('INC-42'), true);
  assert.equal(deploy?.ticket?.test('see INC-42'), false);
  assert.equal(policy.scopes.get('read:logs')?.mfa, false);
  assert.equal(policy.scopes.get('read:logs')?.allowedHours, null);
  assert.deepEqual(policy.scopes.get('jitgate:admin')?.allowedHours, policy.businessHours);
});

test('bundles are expanded into eligible scopes, and bundle names kept for display', async () => {
  const policy = await example();
  assert.deepEqual(policy.bundles.get('incident-response'), ['read:logs', 'deploy:prod']);
  const engineers = policy.groups.get('engineers');
  assert.deepEqual(engineers?.eligible, ['deploy:prod', 'read:logs']);
  assert.deepEqual(engineers?.eligibleBundles, ['incident-response']);
  assert.deepEqual(engineers?.baseline, ['read:logs']);
  assert.deepEqual(policy.groups.get('security')?.baseline, ['jitgate:audit']);
  assert.deepEqual(policy.groups.get('security')?.eligible, ['jitgate:admin']);
});

test('groupsOf maps each principal to its groups', async () => {
  const policy = await example();
  assert.deepEqual(Object.fromEntries(policy.groupsOf), {
    'user:alice': ['engineers'],
    'user:bob': ['engineers'],
    'user:carol': ['sre-leads'],
    'user:dave': ['security'],
  });
  assert.equal(policy.groupsOf.get('user:mallory'), undefined);

  const twoGroups = loadPolicyText(
    'version: 1\ngroups:\n  a: { members: [user:x, client:ci] }\n  b: { members: [user:x] }\n',
    { now: NOW },
  );
  assert.deepEqual(twoGroups.policy?.groupsOf.get('user:x'), ['a', 'b']);
  assert.deepEqual(twoGroups.policy?.groupsOf.get('client:ci'), ['a']);
});

test('clients, resources and routes are normalized', async () => {
  const policy = await example();
  const ci = policy.clients.get('ci-pipeline');
  assert.equal(ci?.public, false);
  assert.equal(ci?.environment, 'production');
  assert.equal(ci?.secretSha256, sha256('example-ci-secret-do-not-use-0123456789abcdef'));
  assert.deepEqual(ci?.eligible, ['deploy:prod']);
  const cli = policy.clients.get('jitgate-cli');
  assert.equal(cli?.public, true);
  assert.equal(cli?.secretSha256, null);
  assert.deepEqual(cli?.redirectUris, ['http://127.0.0.1/callback']);

  const billing = policy.resources.get('https://billing.internal');
  assert.equal(billing?.upstream, 'http://127.0.0.1:9000');
  assert.deepEqual(billing?.injectHeaders, { authorization: 'Bearer ${BILLING_API_KEY}' });
  assert.deepEqual(billing?.routes, [
    { methods: ['GET'], path: '/invoices/**', scopes: ['read:billing'] },
    { methods: ['POST', 'DELETE'], path: '/admin/**', scopes: ['admin:billing'] },
  ]);
  assert.deepEqual(policy.resources.get('https://deploy.internal')?.routes, []);
});

test('rules keep their order, stages their timeouts in seconds, conditions run compiled', async () => {
  const policy = await example();
  assert.deepEqual(
    policy.rules.map((r) => [r.index, r.name, r.decision]),
    [
      [0, 'ci deploys from main', 'approve'],
      [1, 'admin only in business hours', 'deny'],
      [2, 'production needs a lead, then security', null],
      [3, 'administering jitgate needs a lead', null],
      [4, 'low risk is automatic', 'approve'],
    ],
  );
  const staged = policy.rules[2];
  assert.deepEqual(staged?.stages, [
    { approvers: ['sre-leads'], count: 1, timeoutS: 900, escalateTo: ['security'] },
    { approvers: ['security'], count: 1, timeoutS: 1800, escalateTo: [] },
  ]);
  assert.equal(staged?.condition, null);
  assert.deepEqual(policy.rules[0]?.match, {
    principals: ['client:ci-pipeline'], groups: null, scopes: ['deploy:prod'], risk: null,
  });

  const ci = policy.rules[0]?.condition;
  assert.equal(ci?.source, 'request.context.branch == "main"');
  assert.equal(ci?.evaluate({ request: { context: { branch: 'main' } }, now: {} }), true);
  assert.equal(ci?.evaluate({ request: { context: { branch: 'feature' } }, now: {} }), false);
  assert.throws(() => ci?.evaluate({ request: { context: {} }, now: {} }), 'a missing key throws, it is never false by accident');
  assert.equal(policy.rules[1]?.condition?.evaluate({ request: {}, now: { business_hours: false } }), true);
});

test('an exception date lasts through that day in the policy time zone', async () => {
  const policy = await example();
  const [bob] = policy.exceptions;
  // 2027-12-31 in Europe/Berlin (UTC+1 in winter) ends at 2027-12-31T23:00:00Z.
  assert.equal(bob?.expiresAt, Date.UTC(2027, 11, 31, 23) / 1000);
  assert.deepEqual({ ...bob, expiresAt: 0 }, {
    principal: 'user:bob', scopes: ['read:billing'], expiresAt: 0, reason: 'migration', ticket: 'OPS-9',
  });
  assert.deepEqual(policy.webhooks, [
    { url: 'https://hooks.example/jit', secretEnv: 'ALERT_HMAC', events: ['off_hours', 'first_use', 'break_glass'], format: 'json' },
  ]);
});

test('after the exception ends the example still loads, with a warning', async () => {
  const loaded = await loadPolicyFile(EXAMPLE, { now: Date.UTC(2028, 0, 1) / 1000 });
  assert.ok(loaded.policy);
  assert.equal(loaded.issues.length, 1);
  assert.equal(loaded.issues[0]?.severity, 'warning');
  assert.equal(loaded.issues[0]?.path, 'exceptions[0].expires');
});

test('loadPolicyOrThrow returns warnings, and throws policy_invalid with every issue', async () => {
  const { policy, warnings } = await loadPolicyOrThrow(EXAMPLE, { now: NOW });
  assert.equal(policy.version, 1);
  assert.deepEqual(warnings, []);

  const dir = mkdtempSync(join(tmpdir(), 'jitgate-policy-'));
  const bad = join(dir, 'policy.yaml');
  writeFileSync(bad, readFileSync(EXAMPLE, 'utf8').replace('eligible: [deploy:prod]\n', 'eligible: [deploy:prd]\n'));
  await assert.rejects(loadPolicyOrThrow(bad, { now: NOW }), (err: unknown) => {
    assert.ok(err instanceof PolicyInvalidError);
    assert.ok(err instanceof JitgateError);
    assert.equal(err.code, 'policy_invalid');
    assert.deepEqual(err.issues.map((i) => i.path), ['clients.ci-pipeline.eligible[0]']);
    assert.match(err.message, /policy\.yaml:\d+:\d+ error clients\.ci-pipeline\.eligible\[0\]/);
    return true;
  });

  await assert.rejects(loadPolicyFile(join(dir, 'missing.yaml')), (err: unknown) => {
    assert.ok(err instanceof JitgateError);
    assert.equal(err.code, 'policy_unreadable');
    return true;
  });
});
