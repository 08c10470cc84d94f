import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { Command } from 'commander';
import { register } from '../src/cli/policy.js';

// The verb runs in-process through a real commander program; the binary's
// wiring of verbs is tested with the binary.
const EXAMPLE = fileURLToPath(new URL('../examples/policy.yaml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'jitgate-policy-cli-'));

let savedExitCode: typeof process.exitCode;
beforeEach(() => {
  savedExitCode = process.exitCode;
  process.exitCode = undefined;
});
afterEach(() => {
  process.exitCode = savedExitCode;
});

async function run(...args: string[]): Promise<{ out: string; exitCode: number }> {
  let out = '';
  const program = new Command().name('jitgate').exitOverride();
  register(program, { out: (text) => (out += text) });
  await program.parseAsync(['node', 'jitgate', ...args]);
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { out, exitCode };
}

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('a valid file prints OK with its hash and exits 0', async () => {
  // Pin the exception far in the future so the result does not depend on today's date.
  const text = readFileSync(EXAMPLE, 'utf8');
  assert.ok(text.includes('expires: 2027-12-31'));
  const pinned = text.replace('expires: 2027-12-31', 'expires: 2999-12-31');
  const file = write('ok.yaml', pinned);
  const { out, exitCode } = await run('policy', 'check', file);
  const hash = createHash('sha256').update(pinned).digest('hex');
  assert.equal(out, `policy OK (sha256 ${hash}), 0 warnings\n`);
  assert.equal(exitCode, 0);
});

test('errors print as FILE:LINE:COL severity path: message, then a count, and exit 1', async () => {
  const file = write(
    'bad.yaml',
    [
      'version: 1',
      'scopes:',
      '  read:logs: { risk: low }',
      'groups:',
      '  engineers: { members: [user:alice], baseline: [read:log] }',
      'exceptions:',
      '  - { principal: user:bob, scopes: [read:logs], expires: 2000-01-01, reason: old }',
      '',
    ].join('\n'),
  );
  const { out, exitCode } = await run('policy', 'check', file);
  assert.equal(
    out,
    [
      `${file}:5:50 error groups.engineers.baseline[0]: unknown scope "read:log" (did you mean "read:logs"?); declare it under scopes`,
      `${file}:7:58 warning exceptions[0].expires: ended at 2000-01-02T00:00:00Z; it grants nothing now and can be removed`,
      'policy invalid: 1 error, 1 warning',
      '',
    ].join('\n'),
  );
  assert.equal(exitCode, 1);
});

test('warnings alone exit 0', async () => {
  const file = write('warn.yaml', 'version: 1\nscopes:\n  t: { risk: low, ticket: "OPS-1" }\n');
  const { out, exitCode } = await run('policy', 'check', file);
  assert.match(out, /:3:27 warning scopes\.t\.ticket: the ticket pattern is not anchored/);
  assert.match(out, /^policy OK \(sha256 [0-9a-f]{64}\), 1 warning$/m);
  assert.equal(exitCode, 0);
});

test('--json prints the issues for scripts', async () => {
  const file = write('dup.yaml', 'version: 1\ngroups:\n  a: { members: [] }\n  a: { members: [] }\n');
  const { out, exitCode } = await run('policy', 'check', file, '--json');
  const result = JSON.parse(out);
  assert.equal(result.ok, false);
  assert.equal(result.errors, 1);
  assert.equal(result.warnings, 0);
  assert.match(result.hash, /^[0-9a-f]{64}$/);
  assert.deepEqual(result.issues, [
    { severity: 'error', path: 'groups.a', line: 4, column: 3, message: 'duplicate key "a": each key may appear once in a mapping' },
  ]);
  assert.equal(exitCode, 1);
});

test('a file that cannot be read fails with policy_unreadable', async () => {
  await assert.rejects(run('policy', 'check', join(dir, 'nope.yaml')), { code: 'policy_unreadable' });
});

test('--help shows an example', async () => {
  let help = '';
  const program = new Command().name('jitgate').exitOverride().configureOutput({ writeOut: (s) => (help += s) });
  register(program);
  await assert.rejects(program.parseAsync(['node', 'jitgate', 'policy', 'check', '--help']), { code: 'commander.helpDisplayed' });
  assert.match(help, /Usage: jitgate policy check \[options\] <file>/);
  assert.match(help, /Example:\n {2}\$ jitgate policy check examples\/policy\.yaml/);
});
