import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { generateKeyPair, exportJWK, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';

interface IdpKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

/**
 * A real identity provider for tests: an HTTP server publishing a JWKS and a
 * signer for ID tokens. It can rotate its key to test refetch on unknown kid.
 */
export class TestIdp {
  issuer = '';
  jwksUri = '';
  /** How many times the JWKS was fetched. */
  fetches = 0;
  private server: Server | null = null;
  private keys: IdpKey[] = [];
  private n = 0;

  async start(): Promise<this> {
    await this.rotate();
    this.server = createServer((req, res) => {
      if (req.url === '/jwks') {
        this.fetches++;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
        return;
      }
      if (this.handleOidc(req, res)) return;
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const port = (this.server.address() as { port: number }).port;
    this.issuer = `http://127.0.0.1:${port}`;
    this.jwksUri = `${this.issuer}/jwks`;
    return this;
  }

  /** Adds a new key and signs with it from now on (the old one stays published). */
  async rotate(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const kid = `idp-key-${++this.n}`;
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    this.keys.push({ kid, privateKey, jwk });
    return kid;
  }

  get publicJwk(): JWK {
    return this.keys[this.keys.length - 1]!.jwk;
  }

  /** An ID token for `sub`, valid for 5 minutes from `nowS`, with overrides. */
  async idToken(claims: JWTPayload & { sub: string }, opts: { nowS?: number; kid?: string } = {}): Promise<string> {
    const key = this.keys[this.keys.length - 1]!;
    const now = opts.nowS ?? Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.issuer, aud: 'jitgate', iat: now, exp: now + 300, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: opts.kid ?? key.kid, typ: 'JWT' })
      .sign(key.privateKey);
  }

  /** The relying party allowed at the OpenID Connect endpoints (login tests); a null secret makes it public. */
  rp: { clientId: string; secret: string | null; redirectUri: string } | null = null;
  /** Who signs in at the authorization endpoint next; null answers `access_denied`. */
  signsIn: { sub: string; amr?: string[]; acr?: string; authAgeS?: number } | null = null;
  /** The query of the last authorization request. */
  lastAuthorize: URLSearchParams | null = null;
  /** Claims the token endpoint's next ID tokens carry instead of the right ones (a broken or hostile provider). */
  idTokenOverrides: JWTPayload | null = null;
  /** Seconds since the epoch the provider's tokens are stamped with; defaults to the real clock. */
  nowS: (() => number) | null = null;
  private codes = new Map<string, { challenge: string; nonce: string | null; redirectUri: string; user: NonNullable<TestIdp['signsIn']> }>();

  /**
   * A small OpenID Provider: discovery, an authorization endpoint that signs
   * `signsIn` in at once (no page), and a token endpoint that checks the
   * client, the redirect URI and PKCE before returning an ID token with the
   * request's nonce.
   */
  private handleOidc(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', this.issuer);
    const json = (status: number, body: unknown) => {
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      json(200, {
        issuer: this.issuer,
        authorization_endpoint: `${this.issuer}/authorize`,
        token_endpoint: `${this.issuer}/token`,
        jwks_uri: this.jwksUri,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
      });
      return true;
    }
    if (url.pathname === '/authorize' && req.method === 'GET') {
      const q = url.searchParams;
      this.lastAuthorize = q;
      const rp = this.rp;
      if (!rp || q.get('client_id') !== rp.clientId || q.get('redirect_uri') !== rp.redirectUri) {
        json(400, { error: 'invalid_request' });
        return true;
      }
      const back = new URL(rp.redirectUri);
      back.searchParams.set('state', q.get('state') ?? '');
      back.searchParams.set('iss', this.issuer);
      if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
        back.searchParams.set('error', 'invalid_request');
      } else if (!this.signsIn) {
        back.searchParams.set('error', 'access_denied');
      } else {
        const code = randomBytes(16).toString('base64url');
        this.codes.set(code, { challenge: q.get('code_challenge')!, nonce: q.get('nonce'), redirectUri: rp.redirectUri, user: this.signsIn });
        back.searchParams.set('code', code);
      }
      res.statusCode = 303;
      res.setHeader('location', back.href);
      res.end();
      return true;
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        void (async () => {
          const form = new URLSearchParams(body);
          const rp = this.rp;
          let clientId = form.get('client_id');
          let secret: string | null = null;
          const auth = req.headers.authorization;
          if (auth?.startsWith('Basic ')) {
            const [id, sec] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':').map((v) => decodeURIComponent(v));
            clientId = id ?? null;
            secret = sec ?? null;
          }
          if (!rp || clientId !== rp.clientId || secret !== rp.secret) return json(401, { error: 'invalid_client' });
          const entry = this.codes.get(form.get('code') ?? '');
          this.codes.delete(form.get('code') ?? '');
          const verifier = form.get('code_verifier') ?? '';
          if (
            !entry ||
            form.get('grant_type') !== 'authorization_code' ||
            form.get('redirect_uri') !== entry.redirectUri ||
            createHash('sha256').update(verifier).digest('base64url') !== entry.challenge
          ) {
            return json(400, { error: 'invalid_grant' });
          }
          const now = this.nowS ? this.nowS() : Math.floor(Date.now() / 1000);
          const u = entry.user;
          const idToken = await this.idToken(
            {
              sub: u.sub,
              aud: rp.clientId,
              ...(entry.nonce ? { nonce: entry.nonce } : {}),
              ...(u.amr ? { amr: u.amr } : {}),
              ...(u.acr ? { acr: u.acr } : {}),
              auth_time: now - (u.authAgeS ?? 0),
              ...(this.idTokenOverrides ?? {}),
            },
            { nowS: now },
          );
          json(200, { access_token: randomBytes(16).toString('base64url'), token_type: 'Bearer', expires_in: 300, id_token: idToken });
        })();
      });
      return true;
    }
    return false;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
