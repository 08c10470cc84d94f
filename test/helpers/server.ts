import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { loadPolicyText } from '../../src/policy/load.js';
import type { Store } from '../../src/store/open.js';
import type { Clock } from '../../src/util/clock.js';
import type { ServerConfig } from '../../src/http/config.js';

export const FIXTURE_POLICY = readFileSync(new URL('../fixtures/policy.yaml', import.meta.url), 'utf8');

/** Client secrets of test/fixtures/policy.yaml. */
export const SECRETS = {
  'ci-pipeline': 'ci-pipeline-secret-0123456789abcdef0123',
  'resource-server': 'resource-server-secret-0123456789abcdef',
  'staging-runner': 'staging-client-secret-0123456789abcdef',
} as const;

export interface TestServer extends RunningServer {
  policyPath: string;
  /** Rewrites the policy file and reloads it, as SIGHUP would. */
  rewritePolicy(text: string): Promise<void>;
}

export interface TestServerOptions {
  open: () => Promise<Store>;
  policyText?: string;
  /** Replacements applied to the policy text (e.g. the test identity provider's URLs). */
  substitute?: Record<string, string>;
  clock?: Clock;
  config?: Partial<Omit<ServerConfig, 'issuer'>>;
}

/** A real server on a loopback port over the given store, with the policy in a temp file. */
export async function startTestServer(opts: TestServerOptions): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-test-'));
  const policyPath = join(dir, 'policy.yaml');
  const render = (text: string) =>
    Object.entries(opts.substitute ?? {}).reduce((t, [k, v]) => t.split(k).join(v), text);
  writeFileSync(policyPath, render(opts.policyText ?? FIXTURE_POLICY));
  const { policy, issues } = loadPolicyText(render(opts.policyText ?? FIXTURE_POLICY), { source: policyPath });
  if (!policy) throw new Error(`test policy invalid: ${JSON.stringify(issues)}`);
  const store = await opts.open();
  const server = await startServer({
    policy,
    policyPath,
    dbUrl: store.url,
    store,
    clock: opts.clock,
    config: opts.config,
    env: { JITGATE_KEK: randomBytes(32).toString('base64') },
  });
  return {
    ...server,
    policyPath,
    async rewritePolicy(text: string) {
      writeFileSync(policyPath, render(text));
      const res = await server.ctx.policy.reload();
      if (!res.ok) throw Object.assign(new Error('policy reload refused'), { issues: res.issues });
    },
    async close() {
      await server.close();
      await store.close();
    },
  };
}

/** Basic credentials per RFC 6749 §2.3.1 (form-urlencoded, then base64). */
export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** POSTs a form to the server and returns status, headers and parsed JSON body. */
export async function postForm(
  url: string,
  form: Record<string, string | string[]>,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/**
 * Signs in as a person the way `jitgate login --id-token` does: the ID token
 * is exchanged by the public CLI client for a baseline jitgate token.
 */
export async function loginWithIdToken(serverUrl: string, idToken: string, who = 'the person'): Promise<string> {
  const res = await postForm(`${serverUrl}/token`, {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    client_id: 'jitgate-cli',
    subject_token: idToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
  });
  if (res.status !== 200) throw new Error(`login of ${who}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token as string;
}
