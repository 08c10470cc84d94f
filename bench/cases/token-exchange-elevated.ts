/**
 * token_exchange_elevated: the last step of the elevation flow under a fixed
 * load — a baseline token exchanged (RFC 8693) for a token with the elevated
 * scope under one active grant — beside jitgate's own client_credentials on
 * the same database, the cheapest token it issues.
 */
import {
  APPROVER_CLIENT_ID,
  APPROVER_CLIENT_SECRET,
  ELEVATED_MAX_TTL_S,
  ELEVATED_SCOPE,
  REQUESTER_CLIENT_ID,
  REQUESTER_CLIENT_SECRET,
  basicAuthorization,
} from '../lib/fixture.js';
import { ApiToken, approveRequest, elevationPaths, exchangeBody, exchangeForElevated, fileRequest } from '../lib/elevation-steps.js';
import { fetchHttp } from '../lib/fetch-http.js';
import { FORM } from '../lib/oauth-client.js';
import { jitgateVariants } from '../lib/servers.js';
import type { BenchCase, LoadPlan, MeasureSettings, RunningServer, Subject } from '../lib/types.js';
import { tokenPlan } from './client-credentials.js';

/** Slack beyond warm-up plus measured time that the baseline token and the grant must still cover. */
const MARGIN_S = 120;
/** The shortest grant asked for, however short the load. */
const MIN_GRANT_S = 300;

/** The exchange load on one server; remembers the grant it made so the check afterwards can name it. */
function exchangeSubject(): Pick<Subject, 'prepare' | 'verify'> {
  let grantId: string | null = null;
  const requesterAuth = basicAuthorization(REQUESTER_CLIENT_ID, REQUESTER_CLIENT_SECRET);
  return {
    async prepare(server: RunningServer, settings: MeasureSettings): Promise<LoadPlan> {
      const http = fetchHttp(server.baseUrl);
      const paths = elevationPaths(server);
      const neededS = Math.ceil(settings.warmupS + settings.durationS + MARGIN_S);
      const grantS = Math.max(MIN_GRANT_S, neededS);
      if (grantS > ELEVATED_MAX_TTL_S) {
        throw new Error(`the load needs a ${grantS} s grant, longer than the max_ttl of ${ELEVATED_SCOPE} (${ELEVATED_MAX_TTL_S} s): shorten --duration`);
      }
      const requester = await ApiToken.obtain(http, paths, REQUESTER_CLIENT_ID, REQUESTER_CLIENT_SECRET);
      // The load reuses one subject token, so it must outlive the load.
      if (requester.remainingS() < neededS) {
        throw new Error(`the baseline token lasts ${Math.floor(requester.remainingS())} s, less than the load's ${neededS} s: shorten --duration`);
      }
      const approver = await ApiToken.obtain(http, paths, APPROVER_CLIENT_ID, APPROVER_CLIENT_SECRET);
      const id = await fileRequest(http, paths, requester.value, grantS, 'benchmark grant for the exchange load');
      grantId = await approveRequest(http, paths, approver.value, id);
      await exchangeForElevated(http, paths, requesterAuth, requester.value, grantId);
      return {
        method: 'POST',
        url: new URL(paths.token, server.baseUrl).toString(),
        headers: { authorization: requesterAuth, 'content-type': FORM },
        bodies: [exchangeBody(requester.value)],
        expectBody: '"access_token"',
        describe:
          `POST ${paths.token} grant_type=token-exchange, subject_token=<the requester's baseline token>, ` +
          `subject_token_type=access_token, scope=${ELEVATED_SCOPE}, client_secret_basic; one active ${grantS} s grant`,
      };
    },
    async verify(server: RunningServer, plan: LoadPlan): Promise<void> {
      const subjectToken = new URLSearchParams(plan.bodies[0] ?? '').get('subject_token') ?? '';
      await exchangeForElevated(fetchHttp(server.baseUrl), elevationPaths(server), requesterAuth, subjectToken, grantId);
    },
  };
}

export const tokenExchangeElevated: BenchCase = {
  name: 'token_exchange_elevated',
  summary:
    `POST to the token endpoint with grant_type=token-exchange: the requester's baseline token (subject_token_type ` +
    `access_token) exchanged for ${ELEVATED_SCOPE}, authenticated with client_secret_basic. Before the load, a request ` +
    `is filed and approved, so exactly one grant is active; every response must carry an access token, and an exchange ` +
    `after the load must still yield an ES256 JWT naming that grant. The exchange verifies the subject token, looks the ` +
    `grant up and signs a token bounded by it: jitgate's own client_credentials on the same database is measured beside ` +
    `it for reference.`,
  subjects: ({ pg }) =>
    jitgateVariants(pg).flatMap((server): Subject[] => [
      { server, role: 'jitgate', ...exchangeSubject() },
      {
        server,
        role: 'peer',
        label: `${server.label}, client_credentials`,
        against: [server.id],
        note: 'The client_credentials load of the client_credentials case, on a fresh server of the same kind: the reference cost of issuing a token.',
        prepare: tokenPlan,
      },
    ]),
};
