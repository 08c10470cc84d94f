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

/** The client that asks for the elevated scope (jit_cycle, token_exchange_elevated). */
export const REQUESTER_CLIENT_ID = 'bench-requester';
export const REQUESTER_CLIENT_SECRET = 'bench-requester-secret-d3cbc66aa01efb973be0a4f5';
/** The client in the `bench-approvers` group, which approves the requester's requests. */
export const APPROVER_CLIENT_ID = 'bench-approver';
export const APPROVER_CLIENT_SECRET = 'bench-approver-secret-d95d2551cc0d3391103b06bc';
/** The scope the requester is eligible for; one approval from `bench-approvers` grants it. */
export const ELEVATED_SCOPE = 'deploy:bench';
/** `max_ttl` of ELEVATED_SCOPE in bench/policy.yaml: no grant the cases ask for may last longer. */
export const ELEVATED_MAX_TTL_S = 3600;
