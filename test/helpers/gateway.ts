/**
 * What the gateway tests share: a real upstream API (node:http) that records
 * what reaches it, the gateway fixture policy pointed at such upstreams, a
 * gateway started in-process against a real jitgate server, and an HTTP
 * client that can set the Host header (fetch cannot).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../src/gateway/gateway.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { basic, postForm } from './server.js';

export const GATEWAY_POLICY = readFileSync(new URL('../fixtures/gateway-policy.yaml', import.meta.url), 'utf8');

/** Client secrets of test/fixtures/gateway-policy.yaml. */
export const GATEWAY_SECRETS = {
  'jitgate-gateway': 'gateway-client-secret-0123456789abcdef0123',
  reporter: 'reporter-client-secret-0123456789abcdef012',
  'admin-bot': 'admin-bot-client-secret-0123456789abcdef01',
} as const;

export const BILLING = 'https://billing.internal';
export const DEPLOY = 'https://deploy.internal';
/** The environment the fixture's inject_headers read. */
export const GATEWAY_ENV = { BILLING_API_KEY: 'upstream-billing-key-not-for-callers', BILLING_TENANT: 'eu' };

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bytes: number;
}

/**
 * A real upstream API: answers 200 with what it received, counting body
 * bytes without keeping them; `GET /invoices/big?bytes=N` streams N bytes.
 */
export interface Upstream {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const server: Server = createServer((req, res) => {
    const entry: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bytes: 0 };
    seen.push(entry);
    const big = /^\/invoices\/big\?bytes=(\d+)$/.exec(req.url ?? '');
    req.on('data', (d: Buffer) => (entry.bytes += d.length));
    req.on('end', () => {
      if (big) {
        let left = Number(big[1]);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(left) });
        const pump = () => {
          while (left > 0) {
            const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
            left -= part.length;
            if (!res.write(part)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      const body = JSON.stringify({ method: req.method, url: req.url, bytes: entry.bytes });
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-upstream': 'yes',
        // A hop-by-hop header the gateway must not pass on.
        'keep-alive': 'timeout=77',
        'set-cookie': ['a=1; Path=/', 'b=2; Path=/'],
      });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** The fixture policy with its placeholder upstreams replaced. */
export function gatewayPolicyText(upstreams: { billing: string; deploy?: string }, base = GATEWAY_POLICY): string {
  return base
    .split('http://billing-upstream.invalid')
    .join(upstreams.billing)
    .split('http://deploy-upstream.invalid')
    .join(upstreams.deploy ?? 'http://127.0.0.1:9');
}

export function parsePolicy(text: string) {
  const { policy, issues } = loadPolicyText(text, { source: 'gateway-policy.yaml' });
  if (!policy) throw new Error(`gateway test policy invalid: ${JSON.stringify(issues)}`);
  return policy;
}

/** A gateway in this process for `server`, with the fixture's client and environment. */
export async function startTestGateway(
  server: string,
  policyText: string,
  opts: Partial<GatewayOptions> = {},
): Promise<RunningGateway> {
  const gw = await startGateway({
    policy: parsePolicy(policyText),
    server,
    clientId: 'jitgate-gateway',
    clientSecret: GATEWAY_SECRETS['jitgate-gateway'],
    env: GATEWAY_ENV,
    ...opts,
  });
  return gw;
}

export interface GatewayAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** One request to the gateway, with the Host of `resource` and the token, if any. */
export async function call(
  gatewayUrl: string,
  opts: { method?: string; path: string; host?: string; token?: string | null; headers?: Record<string, string>; body?: string },
): Promise<GatewayAnswer> {
  const headers: Record<string, string> = { host: opts.host ?? 'billing.internal', ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await request(`${gatewayUrl}${opts.path}`, {
    method: (opts.method ?? 'GET') as 'GET',
    headers,
    body: opts.body,
  });
  const text = await res.body.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

/** A client_credentials token of a fixture client. */
export async function clientToken(server: string, id: keyof typeof GATEWAY_SECRETS, form: Record<string, string> = {}): Promise<string> {
  const res = await postForm(`${server}/token`, { grant_type: 'client_credentials', ...form }, { authorization: basic(id, GATEWAY_SECRETS[id]) });
  if (res.status !== 200) throw new Error(`client_credentials of ${id}: ${JSON.stringify(res.body)}`);
  return res.body.access_token as string;
}

/** Calls the REST API with a token. */
export async function api(server: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/**
 * An elevated `admin:billing` token of `client:reporter` for the billing
 * resource: an access request the fixture's rule approves at once, then the
 * token exchange. Returns the token and its grant's id.
 */
export async function elevatedToken(server: string): Promise<{ token: string; grantId: string }> {
  const own = await clientToken(server, 'reporter');
  const created = await api(server, own, 'POST', '/requests', {
    scopes: ['admin:billing'],
    resource: BILLING,
    duration: '20m',
    reason: 'reconcile the failed invoice run',
    ticket: 'INC-7',
  });
  if (created.status !== 201 || created.body.status !== 'approved') throw new Error(`access request: ${JSON.stringify(created.body)}`);
  const ex = await postForm(
    `${server}/token`,
    {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: own,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      scope: 'admin:billing',
      resource: BILLING,
    },
    { authorization: basic('reporter', GATEWAY_SECRETS.reporter) },
  );
  if (ex.status !== 200) throw new Error(`token exchange: ${JSON.stringify(ex.body)}`);
  return { token: ex.body.access_token as string, grantId: created.body.grant.id as string };
}

/**
 * Calls until `done(answer)` holds, at most `withinMs`; returns the last
 * answer and how long it took. Revocations travel asynchronously, so the
 * tests wait for the gateway's answer to change rather than for a fixed time.
 */
export async function until(
  fn: () => Promise<GatewayAnswer>,
  done: (a: GatewayAnswer) => boolean,
  withinMs = 3000,
): Promise<{ answer: GatewayAnswer; ms: number }> {
  const start = performance.now();
  for (;;) {
    const answer = await fn();
    const ms = performance.now() - start;
    if (done(answer) || ms > withinMs) return { answer, ms };
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * Sends bytes exactly as given (no client-side header checks) and returns
 * everything answered until the gateway closes the connection (send
 * `Connection: close`, or something it refuses).
 */
export async function rawHttp(gatewayUrl: string, bytes: string): Promise<string> {
  const { connect } = await import('node:net');
  const u = new URL(gatewayUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname, () => socket.write(bytes));
    let out = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (out += d));
    socket.on('error', (err) => (out ? resolve(out) : reject(err)));
    socket.on('close', () => resolve(out));
  });
}
