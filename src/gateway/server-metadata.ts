/**
 * What the gateway learns from the server's RFC 8414 metadata: the issuer
 * its tokens carry, and where the JWKS and token endpoint are. The gateway
 * reaches the server at `--server`, which may differ from the public issuer
 * URL (a gateway next to the server, the issuer behind a load balancer), so
 * endpoints under the issuer are reached under `--server` instead.
 */
import { request } from 'undici';
import { JitgateError } from '../util/errors.js';

export interface ServerMetadata {
  issuer: string;
  jwksUri: string;
  tokenEndpoint: string;
  /** `{server}/api/v1/revocations`. */
  feedUrl: string;
}

export async function fetchServerMetadata(server: string): Promise<ServerMetadata> {
  const base = server.replace(/\/+$/, '');
  const res = await request(`${base}/.well-known/oauth-authorization-server`, {
    headers: { accept: 'application/json' },
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  let meta: Record<string, unknown> = {};
  try {
    meta = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // reported below
  }
  const { issuer, jwks_uri: jwksUri, token_endpoint: tokenEndpoint } = meta;
  if (res.statusCode !== 200 || typeof issuer !== 'string' || typeof jwksUri !== 'string' || typeof tokenEndpoint !== 'string') {
    throw new JitgateError('gateway_server_metadata', `${base} did not answer with authorization server metadata (HTTP ${res.statusCode})`);
  }
  const local = (url: string) => (url === issuer || url.startsWith(`${issuer}/`) ? `${base}${url.slice(issuer.length)}` : url);
  return { issuer, jwksUri: local(jwksUri), tokenEndpoint: local(tokenEndpoint), feedUrl: `${base}/api/v1/revocations` };
}
