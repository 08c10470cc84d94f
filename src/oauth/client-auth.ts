import { createHash, timingSafeEqual } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, errors as joseErrors, type JSONWebKeySet } from 'jose';
import type { ClientDef, Policy } from '../policy/types.js';
import type { FormParams } from '../http/form-body.js';
import { single } from '../http/form-body.js';
import { InvalidClient, InvalidRequest, TooManyRequests } from './errors.js';
import type { FailureLimiter } from '../http/failure-limiter.js';
import type { Store } from '../store/open.js';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
];

/** Asymmetric algorithms only: a symmetric `alg` would let the public key act as an HMAC secret. */
export const CLIENT_ASSERTION_ALGS = ['ES256', 'ES384', 'PS256', 'PS384', 'RS256', 'RS384', 'EdDSA'];

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Client assertions must be short-lived; a longer one is refused rather than remembered for long. */
const MAX_ASSERTION_LIFETIME_S = 300;

export interface AuthenticatedClient {
  client: ClientDef;
  method: ClientAuthMethod;
}

export interface ClientAuthDeps {
  policy: Policy;
  store: Store;
  limits: { client: FailureLimiter; address: FailureLimiter };
  issuer: string;
  /** URLs a client assertion may name as its audience. */
  assertionAudiences: string[];
  nowMs: number;
  /** Records a failed authentication (the audit log's `auth.failed`); the answer waits for it. */
  onFailure?: (failure: { clientId: string; method: ClientAuthMethod; address: string; reason: string }) => Promise<void>;
}

export interface ClientAuthInput {
  authorization: string | undefined;
  params: FormParams;
  ip: string;
}

/**
 * Authenticates the client of a token, introspection or revocation request by
 * exactly one method (RFC 6749 §2.3, RFC 7523). Failures are counted per
 * client and per address; past the limit the caller gets 429 before any
 * secret is checked.
 */
export async function authenticateClient(input: ClientAuthInput, deps: ClientAuthDeps): Promise<AuthenticatedClient> {
  const { params } = input;
  const basic = input.authorization !== undefined && /^basic /i.test(input.authorization);
  const postSecret = single(params, 'client_secret');
  const assertion = single(params, 'client_assertion');
  const assertionType = single(params, 'client_assertion_type');
  const used = Number(basic) + Number(postSecret !== undefined) + Number(assertion !== undefined);
  if (used > 1) throw new InvalidRequest('client authentication must use exactly one method');

  let clientId: string | undefined;
  let secret: string | undefined;
  let method: ClientAuthMethod;
  if (basic) {
    const decoded = decodeBasic(input.authorization!);
    clientId = decoded.id;
    secret = decoded.secret;
    method = 'client_secret_basic';
    const bodyId = single(params, 'client_id');
    if (bodyId !== undefined && bodyId !== clientId) {
      throw new InvalidRequest('client_id in the body does not match the Authorization header');
    }
  } else if (assertion !== undefined) {
    if (assertionType !== JWT_BEARER) throw new InvalidRequest(`client_assertion_type must be ${JWT_BEARER}`);
    clientId = single(params, 'client_id') ?? peekAssertionSubject(assertion);
    method = 'private_key_jwt';
  } else {
    clientId = single(params, 'client_id');
    secret = postSecret;
    method = postSecret !== undefined ? 'client_secret_post' : 'none';
  }
  if (clientId === undefined) throw new InvalidClient('client authentication is required');

  const wait = Math.max(deps.limits.client.blockedFor(clientId, deps.nowMs), deps.limits.address.blockedFor(input.ip, deps.nowMs));
  if (wait > 0) {
    throw new TooManyRequests('too many failed client authentications; try again later', wait / 1000);
  }

  const client = deps.policy.clients.get(clientId);
  if (!client) return fail(deps, input.ip, clientId, method, 'client authentication failed');

  switch (method) {
    case 'client_secret_basic':
    case 'client_secret_post':
      if (!client.secretSha256 || !secretMatches(secret ?? '', client)) {
        return fail(deps, input.ip, clientId, method, 'client authentication failed');
      }
      break;
    case 'private_key_jwt':
      if (client.jwks.length === 0) return fail(deps, input.ip, clientId, method, 'client has no keys for private_key_jwt');
      if (!(await assertionValid(assertion!, client, deps))) return fail(deps, input.ip, clientId, method, 'client assertion is invalid');
      break;
    case 'none':
      if (!client.public) return fail(deps, input.ip, clientId, method, 'client authentication is required for a confidential client');
      break;
  }
  return { client, method };
}

/** Counts the failure against the client and the address, records it, and refuses. */
async function fail(deps: ClientAuthDeps, ip: string, clientId: string, method: ClientAuthMethod, why: string): Promise<never> {
  deps.limits.client.recordFailure(clientId, deps.nowMs);
  deps.limits.address.recordFailure(ip, deps.nowMs);
  await deps.onFailure?.({ clientId, method, address: ip, reason: why });
  throw new InvalidClient(why);
}

/** Each client's expected secret digest as bytes, decoded from the policy's hex once per loaded policy. */
const expectedDigests = new WeakMap<ClientDef, Buffer>();

/** Compares digests, not strings: constant time and the same length whatever was sent. */
function secretMatches(secret: string, client: ClientDef): boolean {
  let expected = expectedDigests.get(client);
  if (expected === undefined) {
    expected = Buffer.from(client.secretSha256 ?? '', 'hex');
    expectedDigests.set(client, expected);
  }
  const presented = createHash('sha256').update(secret, 'utf8').digest();
  return expected.length === presented.length && timingSafeEqual(presented, expected);
}

/** RFC 6749 §2.3.1: both parts are form-urlencoded before base64; most ids and secrets have nothing to decode. */
function formDecode(part: string): string {
  return part.includes('%') || part.includes('+') ? decodeURIComponent(part.replace(/\+/g, ' ')) : part;
}

function decodeBasic(header: string): { id: string; secret: string } {
  const raw = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = raw.indexOf(':');
  if (colon < 0) throw new InvalidClient('malformed Basic credentials');
  try {
    return { id: formDecode(raw.slice(0, colon)), secret: formDecode(raw.slice(colon + 1)) };
  } catch {
    throw new InvalidClient('malformed Basic credentials');
  }
}

function peekAssertionSubject(assertion: string): string | undefined {
  const part = assertion.split('.')[1];
  if (!part) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { sub?: unknown };
    return typeof payload.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

const jwksCache = new WeakMap<ClientDef, ReturnType<typeof createLocalJWKSet>>();

async function assertionValid(assertion: string, client: ClientDef, deps: ClientAuthDeps): Promise<boolean> {
  let keySet = jwksCache.get(client);
  if (!keySet) {
    keySet = createLocalJWKSet({ keys: client.jwks } as JSONWebKeySet);
    jwksCache.set(client, keySet);
  }
  const nowS = Math.floor(deps.nowMs / 1000);
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, keySet, {
      issuer: client.id,
      subject: client.id,
      audience: deps.assertionAudiences,
      algorithms: CLIENT_ASSERTION_ALGS,
      requiredClaims: ['exp', 'jti'],
      currentDate: new Date(deps.nowMs),
      clockTolerance: 5,
    }));
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) return false;
    throw err;
  }
  const exp = payload.exp!;
  if (exp - nowS > MAX_ASSERTION_LIFETIME_S) return false;
  // The jti is remembered until the assertion expires; a second use is a replay.
  const res = await deps.store.db
    .insertInto('client_assertions')
    .values({ client_id: client.id, jti: String(payload.jti), exp })
    .onConflict((oc) => oc.columns(['client_id', 'jti']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
}
