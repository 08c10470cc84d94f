import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPolicyText } from '../src/policy/load.js';
import type { PolicyIssue } from '../src/policy/types.js';

const NOW = Date.UTC(2026, 5, 1) / 1000;
const HASH = 'a'.repeat(64);

/** A small policy with no findings; each test breaks one line of it. */
const BASE = `version: 1
timezone: Europe/Berlin
scopes:
  read:logs: { risk: low }
  deploy:prod: { risk: high, max_ttl: 1h, ticket: "^OPS-[0-9]+$" }
resources:
  - audience: https://deploy.internal
    scopes: [read:logs, deploy:prod]
    upstream: http://127.0.0.1:9000
    routes:
      - { method: POST, path: "/deploy/**", scopes: [deploy:prod] }
  - audience: https://logs.internal
    scopes: [read:logs]
bundles:
  oncall: [read:logs, deploy:prod]
groups:
  engineers: { members: [user:alice, user:bob], baseline: [read:logs], eligible: [oncall] }
  leads: { members: [user:carol] }
clients:
  ci: { secret_sha256: "${HASH}", baseline: [read:logs], eligible: [deploy:prod] }
  cli: { public: true, redirect_uris: ["http://127.0.0.1/callback"] }
rules:
  - name: ci deploys from main
    match: { principals: [client:ci], scopes: [deploy:prod] }
    when: 'request.context.branch == "main"'
    decision: approve
  - name: leads approve
    match: { groups: [engineers], scopes: [deploy:prod] }
    stages:
      - { approvers: [leads], timeout: 15m, escalate_to: [leads] }
exceptions:
  - { principal: user:bob, scopes: [read:logs], expires: 2030-01-01, reason: migration }
`;

const MARK = '#<-';

/** BASE with one line replaced; the replacement carries MARK so the test knows its line. */
function broken(find: string, replacement: string): { text: string; line: number } {
  assert.ok(BASE.includes(find), `fixture has ${find}`);
  // The mark may sit mid-line in the replacement; as a YAML comment it must end its line.
  const text = BASE.replace(find, replacement).replace(/ ?#<-(.*)$/m, '$1 #<-');
  const line = text.split('\n').findIndex((l) => l.includes(MARK)) + 1;
  assert.ok(line > 0, 'replacement is marked');
  return { text, line };
}

function load(text: string) {
  return loadPolicyText(text, { now: NOW, source: 'policy.yaml' });
}

/** Exactly the issue at `path`, which must exist with that severity and line. */
function expectIssue(
  issues: PolicyIssue[],
  want: { path: string; line: number; severity?: 'error' | 'warning'; message?: RegExp; column?: number },
): PolicyIssue {
  const found = issues.find((i) => i.path === want.path);
  assert.ok(found, `expected an issue at ${want.path}, got ${JSON.stringify(issues, null, 1)}`);
  assert.equal(found.severity, want.severity ?? 'error', `severity of ${want.path}`);
  assert.equal(found.line, want.line, `line of ${want.path}`);
  if (want.column !== undefined) assert.equal(found.column, want.column, `column of ${want.path}`);
  if (want.message) assert.match(found.message, want.message);
  return found;
}

function expectError(find: string, replacement: string, want: { path: string; message?: RegExp; column?: number }) {
  const { text, line } = broken(find, replacement);
  const loaded = load(text);
  assert.equal(loaded.policy, null, 'a policy with errors is not loaded');
  return expectIssue(loaded.issues, { ...want, line });
}

test('the base policy has no findings', () => {
  const loaded = load(BASE);
  assert.deepEqual(loaded.issues, []);
  assert.ok(loaded.policy);
});

describe('unknown names', () => {
  test('an unknown scope in a group baseline', () => {
    expectError(
      'baseline: [read:logs], eligible: [oncall] }',
      `baseline: [read:logs, read:log], eligible: [oncall] } ${MARK}`,
      { path: 'groups.engineers.baseline[1]', message: /unknown scope "read:log" \(did you mean "read:logs"\?\)/ },
    );
  });

  test('an unknown scope or bundle in a group eligible list', () => {
    expectError('eligible: [oncall] }', `eligible: [oncall, on-call] } ${MARK}`, {
      path: 'groups.engineers.eligible[1]',
      message: /unknown scope or bundle "on-call"/,
    });
  });

  test('an unknown scope in a bundle', () => {
    expectError('oncall: [read:logs, deploy:prod]', `oncall: [read:logs, deploy:staging] ${MARK}`, {
      path: 'bundles.oncall[1]',
      message: /unknown scope "deploy:staging"/,
    });
  });

  test('an unknown scope in a client baseline and eligible list', () => {
    const { text, line } = broken(
      'baseline: [read:logs], eligible: [deploy:prod] }',
      `baseline: [read:metrics], eligible: [deploy:qa] } ${MARK}`,
    );
    const { issues, policy } = load(text);
    assert.equal(policy, null);
    expectIssue(issues, { path: 'clients.ci.baseline[0]', line, message: /unknown scope "read:metrics"/ });
    expectIssue(issues, { path: 'clients.ci.eligible[0]', line, message: /unknown scope or bundle "deploy:qa"/ });
  });

  test('an unknown scope in a rule match', () => {
    expectError('match: { principals: [client:ci], scopes: [deploy:prod] }', `match: { principals: [client:ci], scopes: [deploy:prd] } ${MARK}`, {
      path: 'rules[0].match.scopes[0]',
      message: /unknown scope "deploy:prd" \(did you mean "deploy:prod"\?\)/,
    });
  });

  test('an unknown group in a rule match', () => {
    expectError('match: { groups: [engineers], scopes: [deploy:prod] }', `match: { groups: [engineer], scopes: [deploy:prod] } ${MARK}`, {
      path: 'rules[1].match.groups[0]',
      message: /unknown group "engineer" \(did you mean "engineers"\?\)/,
    });
  });

  test('an unknown scope in a resource', () => {
    expectError('    scopes: [read:logs]\nbundles', `    scopes: [read:logs, write:logs] ${MARK}\nbundles`, {
      path: 'resources[1].scopes[1]',
      message: /unknown scope "write:logs"/,
    });
  });

  test('a route scope that its resource does not accept', () => {
    const { text, line } = broken(
      '    scopes: [read:logs, deploy:prod]\n    upstream',
      `    scopes: [read:logs] ${MARK}\n    upstream`,
    );
    const { issues } = load(text);
    // The route two lines below is the mistake; the issue points at it.
    expectIssue(issues, {
      path: 'resources[0].routes[0].scopes[0]',
      line: line + 3,
      message: /route scope "deploy:prod" is not among this resource's scopes/,
    });
  });

  test('an unknown scope in an exception', () => {
    expectError('scopes: [read:logs], expires: 2030-01-01', `scopes: [read:billing], expires: 2030-01-01 ${MARK}`, {
      path: 'exceptions[0].scopes[0]',
      message: /unknown scope "read:billing"/,
    });
  });

  test('unknown approver and escalation groups', () => {
    const { text, line } = broken(
      '{ approvers: [leads], timeout: 15m, escalate_to: [leads] }',
      `{ approvers: [lead], timeout: 15m, escalate_to: [security] } ${MARK}`,
    );
    const { issues } = load(text);
    expectIssue(issues, { path: 'rules[1].stages[0].approvers[0]', line, message: /unknown group "lead"/ });
    expectIssue(issues, { path: 'rules[1].stages[0].escalate_to[0]', line, message: /unknown group "security"/ });
  });
});

describe('duplicates', () => {
  test('two resources with the same audience', () => {
    expectError('  - audience: https://logs.internal', `  - audience: https://deploy.internal ${MARK}`, {
      path: 'resources[1].audience',
      message: /duplicate audience, already at resources\[0\]/,
    });
  });

  test('two rules with the same name', () => {
    expectError('  - name: leads approve', `  - name: ci deploys from main ${MARK}`, {
      path: 'rules[1].name',
      message: /duplicate rule name/,
    });
  });

  test('a mapping key written twice is a YAML error', () => {
    expectError('  leads: { members: [user:carol] }', `  leads: { members: [user:carol] }\n  leads: { members: [user:dave] } ${MARK}`, {
      path: 'groups.leads',
      column: 3,
      message: /duplicate key "leads"/,
    });
  });
});

describe('rules', () => {
  test('a condition that does not compile, pointing at the bad character', () => {
    const issue = expectError(`when: 'request.context.branch == "main"'`, `when: 'request.context.branch == ' ${MARK}`, {
      path: 'rules[0].when',
      message: /condition does not compile: .*EOF/i,
    });
    // `when: '` starts at column 5 of `    when: '…'`; the expression ends at column 38.
    assert.equal(issue.column, 38);
  });

  test('a condition naming a variable that does not exist', () => {
    expectError(`when: 'request.context.branch == "main"'`, `when: 'requets.context.branch == "main"' ${MARK}`, {
      path: 'rules[0].when',
      message: /Unknown variable: requets/,
    });
  });

  test('a condition that cannot yield true or false', () => {
    expectError(`when: 'request.context.branch == "main"'`, `when: '"main"' ${MARK}`, {
      path: 'rules[0].when',
      message: /must be true or false/,
    });
  });

  test('a rule with both decision and stages', () => {
    expectError('    stages:\n', `    decision: approve\n    stages: ${MARK}\n`, {
      path: 'rules[1].stages',
      message: /either decision or stages, not both/,
    });
  });

  test('a rule with neither decision nor stages', () => {
    const { text, line } = broken('    decision: approve\n', `    # ${MARK}\n`);
    const { issues, policy } = load(text);
    assert.equal(policy, null);
    // The finding is about the rule as a whole: its first line, two above the removed one.
    expectIssue(issues, { path: 'rules[0]', line: line - 3, message: /needs decision .* or stages/ });
  });
});

describe('values', () => {
  test('an invalid ticket pattern', () => {
    expectError('ticket: "^OPS-[0-9]+$" }', `ticket: "^(OPS-[0-9]+$" } ${MARK}`, {
      path: 'scopes.deploy:prod.ticket',
      message: /invalid regular expression: Unterminated group/,
    });
  });

  test('a secret hash that is not 64 hex characters, without echoing it', () => {
    const issue = expectError(`secret_sha256: "${HASH}"`, `secret_sha256: "${'z'.repeat(64)}" ${MARK}`, {
      path: 'clients.ci.secret_sha256',
      message: /exactly 64 hex characters/,
    });
    assert.ok(!issue.message.includes('zzzz'));
  });

  test('a public client with a secret, and a confidential client with none', () => {
    const { text, line } = broken(
      '  cli: { public: true, redirect_uris: ["http://127.0.0.1/callback"] }',
      `  cli: { public: true, secret_sha256: "${HASH}" } ${MARK}\n  svc: { baseline: [read:logs] }`,
    );
    const { issues } = load(text);
    expectIssue(issues, { path: 'clients.cli.secret_sha256', line, message: /public client cannot keep a secret/ });
    expectIssue(issues, { path: 'clients.svc', line: line + 1, message: /confidential client needs secret_sha256 or jwks/ });
  });

  test('a private key in a client jwks', () => {
    const { text, line } = broken(
      `  ci: { secret_sha256: "${HASH}", baseline: [read:logs], eligible: [deploy:prod] }`,
      `  ci:\n    jwks: { keys: [ { kty: EC, crv: P-256, x: "AA", y: "AA", d: "AA" } ] } ${MARK}`,
    );
    const { issues } = load(text);
    expectIssue(issues, { path: 'clients.ci.jwks.keys[0].d', line, message: /private key material/ });
  });

  test('an exception without expires', () => {
    const issue = expectError('expires: 2030-01-01, reason: migration }', `reason: migration } ${MARK}`, {
      path: 'exceptions[0].expires',
      message: /every exception needs expires/,
    });
    assert.equal(issue.severity, 'error');
  });

  test('an exception that already expired is a warning and the policy still loads', () => {
    const { text, line } = broken('expires: 2030-01-01', `expires: 2026-05-31 ${MARK}`);
    const loaded = load(text);
    assert.ok(loaded.policy, 'warnings do not stop the policy');
    expectIssue(loaded.issues, {
      path: 'exceptions[0].expires',
      line,
      severity: 'warning',
      message: /ended at 2026-05-31T22:00:00Z/,
    });
  });

  test('a principal that is not user: or client:', () => {
    expectError('members: [user:alice, user:bob]', `members: [user:alice, bob] ${MARK}`, {
      path: 'groups.engineers.members[1]',
      message: /user:<id> or client:<id>/,
    });
  });

  test('a time zone that does not exist', () => {
    expectError('timezone: Europe/Berlin', `timezone: Europe/Berln ${MARK}`, {
      path: 'timezone',
      column: 11,
      message: /IANA time zone/,
    });
  });

  test('a version other than 1', () => {
    expectError('version: 1', `version: 2 ${MARK}`, { path: 'version', message: /version must be 1/ });
  });

  test('a duration that is not one', () => {
    expectError('max_ttl: 1h,', `max_ttl: 1 hour, ${MARK}`, { path: 'scopes.deploy:prod.max_ttl', message: /not a duration/ });
  });
});

describe('syntax and typos', () => {
  test('a YAML syntax error names its line and stops the load', () => {
    const { text, line } = broken('  leads: { members: [user:carol] }', `  leads: { members: [user:carol] ${MARK}`);
    const loaded = load(text);
    assert.equal(loaded.policy, null);
    const syntax = loaded.issues.find((i) => i.message.startsWith('YAML:'));
    assert.ok(syntax, JSON.stringify(loaded.issues));
    // The parser notices the unclosed `{` where the next key starts.
    assert.equal(syntax.line, line + 1);
    assert.equal(syntax.path, 'clients');
  });

  test('an unknown key is an error with a suggestion, at the key itself', () => {
    expectError('  leads: { members: [user:carol] }', `  leads: { members: [user:carol], elegible: [oncall] } ${MARK}`, {
      path: 'groups.leads.elegible',
      column: 35,
      message: /unknown key "elegible" \(did you mean "eligible"\?\)/,
    });
  });

  test('an unknown top-level key', () => {
    expectError('timezone: Europe/Berlin', `timezone: Europe/Berlin\ntimezones: UTC ${MARK}`, {
      path: 'timezones',
      column: 1,
      message: /unknown key "timezones" \(did you mean "timezone"\?\)/,
    });
  });

  test('a missing key is placed at the mapping that should hold it', () => {
    const { text, line } = broken('  leads: { members: [user:carol] }', `  leads: { baseline: [read:logs] } ${MARK}`);
    const { issues } = load(text);
    expectIssue(issues, { path: 'groups.leads.members', line, message: /required key is missing/ });
  });

  test('findings in one section do not hide findings in another', () => {
    const bad = BASE.replace('version: 1', 'version: 1\nextra: true')
      .replace('timezone: Europe/Berlin', 'timezone: Mars/Olympus').replace('[oncall] }', '[nope] }');
    const paths = load(bad).issues.map((i) => i.path);
    assert.deepEqual(paths, ['extra', 'timezone', 'groups.engineers.eligible[0]']);
  });
});
