/**
 * The steps of the elevation flow as the bench clients take them: baseline
 * tokens for jitgate's API by client_credentials, an access request for the
 * elevated scope, its approval, and the RFC 8693 exchange of the baseline
 * token for an elevated one. Each step checks the answer the flow needs and
 * fails through `http` otherwise. Messages never carry a token or a secret.
 */
import { BENCH_RESOURCE, ELEVATED_SCOPE, REQUESTER_CLIENT_ID, basicAuthorization } from './fixture.js';
import { FORM, jwsHeader } from './oauth-client.js';
import type { CycleHttp, RunningServer } from './types.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Step names, as the per-step figures show them. */
export const STEP = {
  token: 'baseline token',
  request: 'request',
  approve: 'approve',
  exchange: 'exchange',
} as const;

/** Where the flow's requests go, as paths on the server's origin. */
export interface ElevationPaths {
  token: string;
  /** The REST API root, `/api/v1`. */
  api: string;
}

/** The token endpoint (from discovery) and the REST API root of a jitgate server. */
export function elevationPaths(server: RunningServer): ElevationPaths {
  const token = server.metadata.token_endpoint;
  const issuer = server.metadata.issuer;
  if (typeof token !== 'string' || typeof issuer !== 'string') throw new Error(`${server.id}: discovery document lacks token_endpoint or issuer`);
  return { token: new URL(token).pathname, api: `${new URL(issuer).pathname.replace(/\/$/, '')}/api/v1` };
}

/** A client's baseline token for jitgate's own API (client_credentials without `resource`), renewed before it expires. */
export class ApiToken {
  private constructor(
    private readonly authorization: string,
    private readonly path: string,
    /** The bearer token. */
    public value: string,
    /** When it expires, epoch ms (by this machine's clock, from `expires_in`). */
    public expiresAtMs: number,
    private lifetimeS: number,
  ) {}

  /** Fetches a fresh token for client `clientId`. */
  static async obtain(http: CycleHttp, paths: ElevationPaths, clientId: string, secret: string): Promise<ApiToken> {
    const t = new ApiToken(basicAuthorization(clientId, secret), paths.token, '', 0, 0);
    await t.renew(http);
    return t;
  }

  /** Seconds left before it expires. */
  remainingS(nowMs: number = Date.now()): number {
    return (this.expiresAtMs - nowMs) / 1000;
  }

  /** Renews the token when less than a minute (a quarter of a shorter lifetime) is left. */
  async renewIfNear(http: CycleHttp, nowMs: number = Date.now()): Promise<void> {
    if (this.remainingS(nowMs) < Math.min(60, this.lifetimeS / 4)) await this.renew(http);
  }

  private async renew(http: CycleHttp): Promise<void> {
    const sentAt = Date.now();
    const { json } = await http.send({
      step: STEP.token,
      method: 'POST',
      path: this.path,
      headers: { authorization: this.authorization, 'content-type': FORM },
      body: 'grant_type=client_credentials',
      expectStatus: 200,
    });
    if (typeof json.access_token !== 'string' || typeof json.expires_in !== 'number' || json.expires_in <= 0) {
      http.reject(STEP.token, 'no access_token with a positive expires_in');
    }
    this.value = json.access_token;
    this.lifetimeS = json.expires_in;
    // Counted from before the request was sent, so the local expiry is never later than the server's.
    this.expiresAtMs = sentAt + json.expires_in * 1000;
  }
}

const jsonHeaders = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

/** Files an access request for the elevated scope; returns its id once it is pending. */
export async function fileRequest(http: CycleHttp, paths: ElevationPaths, requester: string, duration: string | number, reason: string): Promise<string> {
  const { json: body } = await http.send({
    step: STEP.request,
    method: 'POST',
    path: `${paths.api}/requests`,
    headers: jsonHeaders(requester),
    body: JSON.stringify({ scopes: [ELEVATED_SCOPE], duration, reason }),
    expectStatus: 201,
  });
  if (body.status !== 'pending' || typeof body.id !== 'string') http.reject(STEP.request, `status ${String(body.status)}, not a pending request`);
  return body.id;
}

/** Approves request `id`; returns the id of the grant it made, which must be active. */
export async function approveRequest(http: CycleHttp, paths: ElevationPaths, approver: string, id: string): Promise<string> {
  const { json: body } = await http.send({
    step: STEP.approve,
    method: 'POST',
    path: `${paths.api}/requests/${encodeURIComponent(id)}/approve`,
    headers: jsonHeaders(approver),
    body: '{}',
    expectStatus: 200,
  });
  const grant = body.grant as { id?: unknown; status?: unknown } | null | undefined;
  if (body.status !== 'approved' || typeof grant?.id !== 'string' || grant.status !== 'active') {
    http.reject(STEP.approve, `status ${String(body.status)}, grant ${String(grant?.status ?? 'none')}: not approved with an active grant`);
  }
  return grant.id;
}

/** The form body of the exchange of the requester's baseline token for the elevated scope. */
export function exchangeBody(subjectToken: string): string {
  return new URLSearchParams({
    grant_type: TOKEN_EXCHANGE,
    subject_token: subjectToken,
    subject_token_type: ACCESS_TOKEN_TYPE,
    scope: ELEVATED_SCOPE,
  }).toString();
}

/** The claims of a compact JWS, or null when the value is not one. */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Why an exchange answer is not an elevated token for the requester on the
 * bench resource under a grant (`grantId`, when it must be that one); null
 * when it is.
 */
export function elevatedTokenFault(body: Record<string, unknown>, grantId: string | null): string | null {
  if (typeof body.access_token !== 'string') return 'no access_token';
  if (body.refresh_token !== undefined) return 'an elevated token came with a refresh token';
  if (jwsHeader(body.access_token)?.alg !== 'ES256') return 'the access token is not an ES256 JWT';
  const claims = jwtClaims(body.access_token);
  if (!claims) return 'the access token has no readable claims';
  if (typeof claims.grant !== 'string' || claims.grant === '') return 'the access token carries no grant';
  if (grantId !== null && claims.grant !== grantId) return 'the access token names another grant';
  if (claims.sub !== `client:${REQUESTER_CLIENT_ID}`) return 'the access token is for another principal';
  if (claims.aud !== BENCH_RESOURCE) return 'the access token is for another audience';
  if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(ELEVATED_SCOPE)) return `the access token lacks ${ELEVATED_SCOPE}`;
  return null;
}

/** Exchanges the requester's baseline token for the elevated scope; returns the elevated token. */
export async function exchangeForElevated(
  http: CycleHttp,
  paths: ElevationPaths,
  /** The requester's client_secret_basic header. */
  authorization: string,
  subjectToken: string,
  grantId: string | null,
): Promise<string> {
  const { json: body } = await http.send({
    step: STEP.exchange,
    method: 'POST',
    path: paths.token,
    headers: { authorization, 'content-type': FORM },
    body: exchangeBody(subjectToken),
    expectStatus: 200,
  });
  const fault = elevatedTokenFault(body, grantId);
  if (fault) http.reject(STEP.exchange, fault);
  return body.access_token as string;
}
