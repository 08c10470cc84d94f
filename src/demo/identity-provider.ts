/**
 * A demo-only identity provider: on loopback, it signs ID tokens for the
 * example policy's people with a key made at start and forgotten at exit, so
 * `jitgate demo` can be tried without a real IdP. It asks nobody for a
 * password — anyone on this machine can be anyone — which is why it binds
 * 127.0.0.1 alone, refuses connections from elsewhere, and is never part of
 * `jitgate serve`.
 */
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { closeServer, isLoopbackAddress, listenOnLoopback } from './loopback.js';

/** The audience its ID tokens carry; the demo policy's trusted issuer expects it. */
export const DEMO_IDP_AUDIENCE = 'jitgate';
/** How long an ID token it signs is valid by default: long enough to paste it, short enough not to matter. */
const ID_TOKEN_TTL_S = 300;

export interface DemoIdentityProvider {
  /** Its issuer URL (also where it listens). */
  issuer: string;
  jwksUri: string;
  /** The URL that answers a fresh ID token for `user`, as plain text. */
  idTokenUrl(user: string): string;
  close(): Promise<void>;
}

/**
 * Starts it on 127.0.0.1:`port` (0: any free port) for the given user names
 * (the `sub` of its tokens); its ID tokens last `idTokenTtlS` (default 300 s).
 */
export async function startDemoIdentityProvider(opts: { users: readonly string[]; port?: number; idTokenTtlS?: number }): Promise<DemoIdentityProvider> {
  const ttlS = opts.idTokenTtlS ?? ID_TOKEN_TTL_S;
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = `demo-${Date.now().toString(36)}`;
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const jwks = JSON.stringify({ keys: [jwk] });
  const users = new Set(opts.users);
  let issuer = '';

  const server: Server = createServer((req, res) => {
    res.setHeader('cache-control', 'no-store');
    if (!isLoopbackAddress(req.socket.remoteAddress)) {
      res.writeHead(403).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/jwks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
      return;
    }
    const m = /^\/id-token\/([a-z][a-z0-9-]{0,31})$/.exec(path);
    if (m && users.has(m[1]!)) {
      void signIdToken(privateKey, kid, issuer, m[1]!, ttlS).then(
        (token) => res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`${token}\n`),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`demo identity provider: users are ${[...users].join(', ')}\n`);
  });
  issuer = await listenOnLoopback(server, opts.port ?? 0, 'demo identity provider');
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    idTokenUrl: (user) => `${issuer}/id-token/${user}`,
    close: () => closeServer(server),
  };
}

function signIdToken(key: CryptoKey, kid: string, issuer: string, user: string, ttlS: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ amr: ['pwd'], auth_time: now })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setSubject(user)
    .setAudience(DEMO_IDP_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlS)
    .sign(key);
}
