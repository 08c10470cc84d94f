import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redirectUriAllowed } from '../src/login/redirect-uri.js';
import { cookieNames, readCookie, setCookie } from '../src/login/cookies.js';

test('redirect URIs match exactly, except the port of a loopback one (RFC 8252 §7.3)', () => {
  const registered = ['http://127.0.0.1/callback', 'http://[::1]/cb', 'https://app.example.com/cb'];
  const cases: [string, boolean][] = [
    ['http://127.0.0.1/callback', true],
    ['http://127.0.0.1:49152/callback', true],
    ['http://[::1]:8080/cb', true],
    ['https://app.example.com/cb', true],
    ['https://app.example.com:8443/cb', false],
    ['https://app.example.com/cb?x=1', false],
    ['http://127.0.0.1:49152/callback/', false],
    ['http://127.0.0.1:49152/other', false],
    ['http://127.0.0.1:99999/callback', false],
    ['http://localhost:49152/callback', false],
    ['http://127.0.0.1:49152/callback#frag', false],
    ['http://[::1]:8080/callback', false],
  ];
  for (const [uri, ok] of cases) assert.equal(redirectUriAllowed(registered, uri), ok, uri);
});

test('cookies carry __Host- and Secure only on an https issuer', () => {
  assert.deepEqual(cookieNames('https://jit.example.com'), { session: '__Host-jitgate_session', browser: '__Host-jitgate_login', secure: true });
  assert.deepEqual(cookieNames('http://127.0.0.1:8080'), { session: 'jitgate_session', browser: 'jitgate_login', secure: false });
  assert.equal(setCookie('__Host-jitgate_session', 'abc', { secure: true, maxAgeS: 60 }), '__Host-jitgate_session=abc; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=60');
  assert.equal(setCookie('jitgate_session', 'abc', { secure: false }), 'jitgate_session=abc; Path=/; HttpOnly; SameSite=Lax');
});

test('a cookie sent twice or with characters of no value of ours reads as absent', () => {
  assert.equal(readCookie('a=1; jitgate_session=abc_-9', 'jitgate_session'), 'abc_-9');
  assert.equal(readCookie('jitgate_session=abc; jitgate_session=def', 'jitgate_session'), undefined);
  assert.equal(readCookie('jitgate_session=a"b', 'jitgate_session'), undefined);
  assert.equal(readCookie(undefined, 'jitgate_session'), undefined);
});
