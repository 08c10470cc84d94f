/**
 * `jitgate demo` as a newcomer meets it: started as a child process, its
 * printed walk-through is followed to the letter — every command run in a
 * shell exactly as printed, one shell per person, as two terminals would —
 * and the gateway answers 403, then 200 once the request is approved, then
 * 401 once the grant is revoked. Ctrl-C stops everything.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'jitgate.js');

/** The environment of a fresh terminal: none of the test runner's or the outer jitgate settings. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ['NODE_OPTIONS', 'NODE_TEST_CONTEXT', 'JITGATE_SERVER', 'JITGATE_ID_TOKEN', 'JITGATE_POLICY', 'JITGATE_DB', 'JITGATE_PORT']) delete env[k];
  return env;
}

interface Demo {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startDemo(args: string[], env: NodeJS.ProcessEnv): Demo {
  const child = spawn(process.execPath, [BIN, 'demo', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitForOutput(demo: Demo, pattern: RegExp, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!pattern.test(demo.stdout())) {
    if (demo.child.exitCode !== null) throw new Error(`jitgate demo exited early:\n${demo.stdout()}\n${demo.stderr()}`);
    if (Date.now() > until) throw new Error(`jitgate demo printed no ${pattern} within ${ms} ms:\n${demo.stdout()}\n${demo.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * One person's terminal: a long-lived `sh`, so that what a command sets
 * (`export`, `TOKEN=…`) is there for the next, as at a prompt. Each command
 * runs exactly as printed; only its standard input is closed (nobody types
 * into it) and its output is collected with its exit status.
 */
class Terminal {
  private readonly sh: ChildProcess;
  private buffer = '';
  private n = 0;

  constructor(env: NodeJS.ProcessEnv) {
    this.sh = spawn('sh', [], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.sh.stdout!.on('data', (d: Buffer) => (this.buffer += d.toString()));
    this.sh.stderr!.on('data', (d: Buffer) => (this.buffer += d.toString()));
  }

  async run(command: string, ms = 60_000): Promise<{ status: number; output: string }> {
    const mark = `__done_${++this.n}_${process.pid}__`;
    this.buffer = '';
    this.sh.stdin!.write(`{ ${command}\n} </dev/null 2>&1; printf '\\n${mark}:%s\\n' "$?"\n`);
    const done = new RegExp(`\\n${mark}:(\\d+)\\n`);
    const until = Date.now() + ms;
    for (;;) {
      const m = done.exec(this.buffer);
      if (m) return { status: Number(m[1]), output: this.buffer.slice(0, m.index) };
      if (Date.now() > until) throw new Error(`no end of ${command} within ${ms} ms:\n${this.buffer}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.sh.stdin!.end();
    this.sh.kill('SIGTERM');
  }
}

interface Step {
  n: number;
  who: string;
  what: string;
  commands: string[];
}

/** The walk-through as printed: each person's terminal set-up, and the numbered steps with their commands. */
function parseWalkthrough(text: string): { setup: Map<string, string[]>; steps: Step[] } {
  const setup = new Map<string, string[]>();
  const steps: Step[] = [];
  let current: string[] | null = null;
  for (const line of text.split('\n')) {
    const terminal = /^ {2}(\w+)'s terminal \(.*\):$/.exec(line);
    const step = /^ {2}(\d+)\. \[(\w+)\] (.+)$/.exec(line);
    const command = /^ {6}(\S.*)$/.exec(line);
    if (terminal) {
      current = [];
      setup.set(terminal[1]!, current);
    } else if (step) {
      current = [];
      steps.push({ n: Number(step[1]), who: step[2]!, what: step[3]!, commands: current });
    } else if (command && current) {
      current.push(command[1]!);
    } else {
      current = null;
    }
  }
  return { setup, steps };
}

/** The status of the last HTTP answer `curl -i` printed. */
function httpStatus(output: string): number {
  const all = [...output.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)];
  assert.ok(all.length > 0, `no HTTP answer in:\n${output}`);
  return Number(all[all.length - 1]![1]);
}

describe('jitgate demo walk-through', () => {
  let dir: string;
  let demo: Demo;
  const terminals = new Map<string, Terminal>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jitgate-demo-'));
    demo = startDemo(['--port', '0', '--gateway-port', '0', '--dir', join(dir, 'demo')], cleanEnv({ XDG_CONFIG_HOME: join(dir, 'config') }));
    await waitForOutput(demo, /Press Ctrl-C to stop the demo\./, 60_000);
  });

  after(async () => {
    for (const t of terminals.values()) t.close();
    if (demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.child.kill('SIGKILL');
      await demo.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints steps that, run as printed, go 403 → request → approve → 200 → revoke → 401', async () => {
    const { setup, steps } = parseWalkthrough(demo.stdout());
    assert.deepEqual([...setup.keys()], ['alice', 'carol']);
    assert.deepEqual(
      steps.map((s) => s.n),
      steps.map((_, i) => i + 1),
    );
    for (const [who, lines] of setup) {
      assert.match(lines.join('\n'), /JITGATE_SERVER=http:\/\/127\.0\.0\.1:\d+/);
      assert.match(lines.join('\n'), /XDG_CONFIG_HOME=\//);
      const t = new Terminal(cleanEnv({ XDG_CONFIG_HOME: join(dir, 'config') }));
      terminals.set(who, t);
      for (const line of lines) assert.equal((await t.run(line)).status, 0, line);
    }

    const ids: Record<string, string> = {};
    const statuses: number[] = [];
    const transcript: string[] = [];
    for (const step of steps) {
      const t = terminals.get(step.who);
      assert.ok(t, `step ${step.n} names a terminal the demo did not set up: ${step.who}`);
      let last = { status: 0, output: '' };
      for (const printed of step.commands) {
        let command = printed;
        for (const [placeholder, value] of Object.entries(ids)) command = command.replaceAll(placeholder, value);
        assert.doesNotMatch(command, /REQUEST_ID|GRANT_ID/, `step ${step.n} needs an id no earlier step printed: ${printed}`);
        last = await t.run(command);
        transcript.push(`[${step.who}] $ ${command}\n${last.output}`);
        assert.equal(last.status, 0, `step ${step.n} (${step.what}) failed: ${command}\n${transcript.join('\n')}`);
        const req = /^request (req_[\w-]+)\s+pending/m.exec(last.output);
        if (req) ids.REQUEST_ID = req[1]!;
        const grant = /^ {2}grant\s+(gr_[\w-]+) active/m.exec(last.output);
        if (grant) ids.GRANT_ID = grant[1]!;
      }
      if (step.n === 1) assert.match(last.output, /logged in to http:\/\/127\.0\.0\.1:\d+ as user:alice/);
      if (!/^curl .* -i /.test(step.commands[step.commands.length - 1]!)) continue;
      statuses.push(httpStatus(last.output));
      if (statuses.length === 1) {
        // The refusal names the scope to ask for, and the next step asks for exactly that one.
        const scope = /www-authenticate: Bearer realm="jitgate", error="insufficient_scope", scope="([^"]+)"/i.exec(last.output);
        assert.ok(scope, last.output);
        assert.match(last.output, /"code":"insufficient_scope"/);
        assert.ok(steps.some((s) => s.commands.some((c) => c.startsWith(`npx jitgate request ${scope[1]} `))), `no step requests ${scope[1]}`);
      }
    }

    assert.deepEqual(statuses, [403, 200, 401], transcript.join('\n'));
    const [, ok, revoked] = transcript.filter((t) => /^\[alice\] \$ curl .* -i /.test(t));
    // The API saw the gateway's injected key, never alice's token, and says so without echoing the key.
    assert.match(ok!, /"authenticated_as":"gateway"/);
    assert.match(ok!, /"invoices":\[/);
    assert.match(revoked!, /"code":"invalid_token"/);
    assert.match(revoked!, /revoked/);
    assert.ok(ids.REQUEST_ID && ids.GRANT_ID, 'the request and grant ids were printed');
  });

  it('refuses a taken port by naming the flag that picks another', async () => {
    const gatewayUrl = /gateway: +(http:\/\/127\.0\.0\.1:(\d+))/.exec(demo.stdout());
    assert.ok(gatewayUrl);
    const second = startDemo(['--port', '0', '--gateway-port', gatewayUrl[2]!, '--dir', join(dir, 'second')], cleanEnv({ XDG_CONFIG_HOME: join(dir, 'config') }));
    const { code } = await second.exited;
    assert.equal(code, 1);
    assert.match(second.stderr(), new RegExp(`port ${gatewayUrl[2]} on 127\\.0\\.0\\.1 is taken, so the gateway cannot start; pick another with --gateway-port`));
    assert.doesNotMatch(second.stdout(), /Press Ctrl-C/);
    // Refused before it wrote a policy or opened a database.
    assert.equal(existsSync(join(dir, 'second', 'policy.yaml')), false);
    assert.equal(existsSync(join(dir, 'second', 'jitgate.db')), false);
  });

  it('has a demo API that answers only the key the gateway injects', async () => {
    const upstream = /demo billing API \(https:\/\/billing\.internal\) at (http:\/\/127\.0\.0\.1:\d+)/.exec(demo.stdout());
    assert.ok(upstream);
    for (const headers of [{}, { authorization: 'Bearer not-the-key' }] as Record<string, string>[]) {
      const res = await fetch(`${upstream[1]}/invoices`, { headers });
      assert.equal(res.status, 401);
      const body = (await res.json()) as { error: string; authenticated_as?: string };
      assert.equal(body.error, 'unauthenticated');
      assert.equal(body.authenticated_as, undefined);
    }
  });

  it('stops everything cleanly on Ctrl-C (SIGINT)', async () => {
    const urls = [...demo.stdout().matchAll(/(?:server|gateway|demo IdP): +(http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => m[1]!);
    const upstream = /demo billing API \(https:\/\/billing\.internal\) at (http:\/\/127\.0\.0\.1:\d+)/.exec(demo.stdout());
    assert.ok(upstream);
    urls.push(upstream[1]!);
    assert.equal(urls.length, 4);
    demo.child.kill('SIGINT');
    const { code, signal } = await demo.exited;
    assert.equal(signal, null);
    assert.equal(code, 0, demo.stderr());
    assert.match(demo.stderr(), /jitgate demo: stopped/);
    for (const url of urls) {
      await assert.rejects(fetch(url), (err: Error & { cause?: { code?: string } }) => err.cause?.code === 'ECONNREFUSED', `${url} still answers`);
    }
  });
});
