import { createServer, type Server } from 'node:http';
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

  async close(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
