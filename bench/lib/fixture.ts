/**
 * The identities every server under test is configured with, so jitgate and
 * its peers answer exactly the same requests. The secret is a benchmark
 * fixture, not a credential: bench/policy.yaml carries its SHA-256.
 */
export const BENCH_CLIENT_ID = 'bench';
export const BENCH_CLIENT_SECRET = 'bench-client-secret-7f3a9c2e5b8d1f4a6c0e9b2d';
export const BENCH_SCOPE = 'read:logs';
/** The resource (RFC 8707 audience) tokens are asked for. */
export const BENCH_RESOURCE = 'https://bench.jitgate.test';

/** `Authorization` header value for client_secret_basic (RFC 6749 §2.3.1 form-encodes both parts). */
export function basicAuthorization(clientId: string = BENCH_CLIENT_ID, secret: string = BENCH_CLIENT_SECRET): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}

/** The form body of the client_credentials request every token server gets. */
export function clientCredentialsBody(resource: string | null = BENCH_RESOURCE): string {
  const form = new URLSearchParams({ grant_type: 'client_credentials', scope: BENCH_SCOPE });
  if (resource !== null) form.set('resource', resource);
  return form.toString();
}
