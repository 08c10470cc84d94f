import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPolicyText } from '../src/policy/load.js';

const BASE = `version: 1
scopes:
  read:logs: { risk: low }
groups:
  engineers: { members: [user:alice], baseline: [read:logs] }
clients:
  cli: { public: true, redirect_uris: ["http://127.0.0.1/callback"] }
`;

const load = (identity: string) => loadPolicyText(`${BASE}identity:\n${identity}`, { source: 'policy.yaml' });

test('identity.login is optional: local users sign in and no provider is offered', () => {
  const { policy } = loadPolicyText(BASE, { source: 'policy.yaml' });
  assert.deepEqual(policy!.login, { localUsers: true, upstream: null });
});

test('identity.login.upstream is normalized with its defaults', () => {
  const { policy, issues } = load(`  login:
    upstream:
      issuer: https://sso.example.com
      client_id: jitgate
      client_secret_env: SSO_SECRET
`);
  assert.deepEqual(issues.filter((i) => i.severity === 'error'), []);
  assert.deepEqual(policy!.login.upstream, {
    issuer: 'https://sso.example.com',
    clientId: 'jitgate',
    clientSecretEnv: 'SSO_SECRET',
    authorizationEndpoint: null,
    tokenEndpoint: null,
    jwksUri: null,
    scopes: ['openid'],
    subject: 'user:{sub}',
    mfaAmr: [],
    name: 'sso.example.com',
  });
});

test('mistakes in identity.login name their key path and line', () => {
  const cases: [string, string, RegExp][] = [
    ['  login:\n    upstream: { issuer: https://sso.example.com, client_id: j, scopes: [profile] }\n', 'identity.login.upstream.scopes', /include openid/],
    ['  login:\n    upstream: { issuer: https://sso.example.com, client_id: j, subject: "{sub}" }\n', 'identity.login.upstream.subject', /user: or client:/],
    ['  login:\n    upstream: { issuer: https://sso.example.com, client_id: j, client_secret_env: "not a name" }\n', 'identity.login.upstream.client_secret_env', /environment variable/],
    ['  login:\n    upstream: { issuer: sso.example.com, client_id: j }\n', 'identity.login.upstream.issuer', /http/],
    ['  login:\n    local_user: true\n', 'identity.login', /local_user/],
  ];
  for (const [text, path, message] of cases) {
    const { policy, issues } = load(text);
    assert.equal(policy, null, path);
    const found = issues.find((i) => i.path.startsWith(path) && i.severity === 'error');
    assert.ok(found, `${path}: ${JSON.stringify(issues)}`);
    assert.match(found.message, message, path);
    assert.equal(found.line, 10, path);
  }
});

test('turning local users off without a provider is a warning', () => {
  const { policy, issues } = load('  login: { local_users: false }\n');
  assert.ok(policy);
  const w = issues.find((i) => i.path === 'identity.login.local_users');
  assert.equal(w?.severity, 'warning');
});
