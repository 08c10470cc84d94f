/**
 * A `jitgate serve` node (SQLite, the bench policy) whose database holds N
 * active grants and N live tokens before it starts, written straight into
 * the tables the way the server writes them (ids, principals, scopes,
 * lifetimes), spread over 1,000 principals. The loads then run through the
 * real flow on top of them: grants and tokens made by the server itself for
 * the bench clients, looked up among the seeded rows.
 */
import { randomBytes } from 'node:crypto';
import { openStore } from '../../src/store/open.js';
import {
  APPROVER_CLIENT_ID,
  APPROVER_CLIENT_SECRET,
  BENCH_RESOURCE,
  ELEVATED_SCOPE,
  REQUESTER_CLIENT_ID,
  REQUESTER_CLIENT_SECRET,
  basicAuthorization,
} from './fixture.js';
import { ApiToken, approveRequest, elevationPaths, exchangeBody, exchangeForElevated, fileRequest } from './elevation-steps.js';
import { fetchHttp } from './fetch-http.js';
import { FORM } from './oauth-client.js';
import { sqliteUrl, startNode } from './gateway-stack.js';
import type { HttpLoad, LoadRequest } from './http-loads.js';
import type { RunningServer, StartEnv } from './types.js';

const BATCH = 500;
const PRINCIPALS = 1000;

/** Writes `grants` active grants and `tokens` live tokens into the (migrated) database at `url`; resolves with the time taken, ms. */
export async function seedGrantsAndTokens(url: string, grants: number, tokens: number): Promise<number> {
  const t0 = performance.now();
  const store = await openStore(url, { checkpointer: false });
  try {
    const now = Math.floor(Date.now() / 1000);
    const tag = randomBytes(3).toString('hex');
    for (let done = 0; done < Math.max(grants, tokens); done += BATCH * 10) {
      await store.db.transaction().execute(async (trx) => {
        for (let b = done; b < Math.min(done + BATCH * 10, Math.max(grants, tokens)); b += BATCH) {
          const g = [];
          const t = [];
          for (let i = b; i < b + BATCH; i++) {
            const principal = `user:u${i % PRINCIPALS}`;
            if (i < grants) {
              g.push({
                id: `grt_seed${tag}${i.toString(36)}`,
                request_id: `req_seed${tag}${i.toString(36)}`,
                principal,
                scopes: ELEVATED_SCOPE,
                resource: BENCH_RESOURCE,
                starts_at: now - 60,
                ends_at: now + 3600 + (i % 3600),
                revoked_at: null,
                revoked_by: null,
                revoke_reason: null,
                released_at: null,
                break_glass: 0,
                review: 'none',
                reviewed_by: null,
                reviewed_at: null,
                review_note: null,
                created_at: now - 60,
              });
            }
            if (i < tokens) {
              t.push({
                jti: `seed${tag}${i.toString(36)}`,
                token_hash: randomBytes(32).toString('base64url'),
                sub: principal,
                client_id: 'jitgate-cli',
                aud: BENCH_RESOURCE,
                scope: i < grants ? `read:logs ${ELEVATED_SCOPE}` : 'read:logs',
                grant_id: i < grants ? `grt_seed${tag}${i.toString(36)}` : null,
                kid: 'seeded',
                iat: now - 60,
                exp: now + 3600 + (i % 3600),
                auth_time: null,
                acr: null,
                amr: null,
                revoked_at: null,
                revoked_reason: null,
              });
            }
          }
          if (g.length) await trx.insertInto('grants').values(g).execute();
          if (t.length) await trx.insertInto('tokens').values(t).execute();
        }
      });
    }
  } finally {
    await store.close();
  }
  return performance.now() - t0;
}

export interface SeededNode {
  node: RunningServer;
  seedMs: number;
}

/** A node on a fresh SQLite database seeded with `grants` grants and `tokens` tokens. */
export async function startSeededNode(env: StartEnv, grants: number, tokens: number): Promise<SeededNode> {
  const url = sqliteUrl(env, `seeded-${grants}`);
  const seedMs = await seedGrantsAndTokens(url, grants, tokens);
  const node = await startNode(env, { id: 'jitgate-sqlite', policyPath: 'bench/policy.yaml', dbUrl: url });
  return { node, seedMs };
}

/** The requests of the elevation loads on a running node: introspections of elevated tokens, and exchanges. */
export interface ElevationLoads {
  /** POST /introspect of one of `count` elevated tokens (each under its own grant), by the requester: `"active":true`. */
  introspection: HttpLoad;
  /** POST /token exchanging the requester's baseline token for the elevated scope under one of its live grants. */
  exchange: HttpLoad;
  /** Both, alternating. */
  mixed: HttpLoad;
}

/**
 * Makes `count` grants through the real flow (request, approval, exchange)
 * and returns the loads on them. The requester's baseline token must
 * outlive the load, so it is fetched here, just before.
 */
export async function elevationLoads(node: RunningServer, count: number): Promise<ElevationLoads> {
  const http = fetchHttp(node.baseUrl);
  const paths = elevationPaths(node);
  const requester = await ApiToken.obtain(http, paths, REQUESTER_CLIENT_ID, REQUESTER_CLIENT_SECRET);
  const approver = await ApiToken.obtain(http, paths, APPROVER_CLIENT_ID, APPROVER_CLIENT_SECRET);
  const auth = basicAuthorization(REQUESTER_CLIENT_ID, REQUESTER_CLIENT_SECRET);
  const elevated: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = await fileRequest(http, paths, requester.value, '1h', `benchmark grant ${i}`);
    const grant = await approveRequest(http, paths, approver.value, id);
    elevated.push(await exchangeForElevated(http, paths, auth, requester.value, grant));
  }
  const introspectPath = `${paths.token.replace(/\/token$/, '')}/introspect`;
  const headers = { authorization: auth, 'content-type': FORM };
  const introspections: LoadRequest[] = elevated.map((token) => ({
    method: 'POST',
    path: introspectPath,
    headers,
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
  }));
  const exchange: LoadRequest = { method: 'POST', path: paths.token, headers, body: exchangeBody(requester.value) };
  // Both answers name the scope: an active introspection and an issued token; a refusal or `"active":false` does not.
  const expectBody = ELEVATED_SCOPE;
  return {
    introspection: { origin: node.baseUrl, requests: introspections, expectBody },
    exchange: { origin: node.baseUrl, requests: [exchange], expectBody },
    mixed: { origin: node.baseUrl, requests: introspections.flatMap((r) => [r, exchange]), expectBody },
  };
}
