/**
 * jit_cycle: the whole just-in-time elevation, request → approve → exchange,
 * as dependent requests. Every worker loops the cycle on its own tokens; the
 * figure is complete cycles per second.
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
import { ApiToken, STEP, approveRequest, elevationPaths, exchangeForElevated, fileRequest } from '../lib/elevation-steps.js';
import { JITGATE_SQLITE, jitgateVariants } from '../lib/servers.js';
import type { CycleCase, CyclePlan, CycleSubject, RunningServer } from '../lib/types.js';

/** Each cycle's grant: long enough to exchange at once, well inside the scope's max_ttl. */
const CYCLE_GRANT = '5m';
const CYCLE_GRANT_S = 300;

function cyclePlan(server: RunningServer): CyclePlan {
  if (CYCLE_GRANT_S > ELEVATED_MAX_TTL_S) throw new Error(`a ${CYCLE_GRANT} grant exceeds the max_ttl of ${ELEVATED_SCOPE}`);
  const paths = elevationPaths(server);
  const requesterAuth = basicAuthorization(REQUESTER_CLIENT_ID, REQUESTER_CLIENT_SECRET);
  return {
    steps: [STEP.request, STEP.approve, STEP.exchange],
    describe:
      `per cycle: POST ${paths.api}/requests {scopes:[${ELEVATED_SCOPE}], duration:"${CYCLE_GRANT}", reason} as ${REQUESTER_CLIENT_ID} → 201 pending; ` +
      `POST ${paths.api}/requests/{id}/approve as ${APPROVER_CLIENT_ID} → 200 approved, grant active; ` +
      `POST ${paths.token} token-exchange of the requester's baseline token for scope=${ELEVATED_SCOPE}, client_secret_basic → 200, ES256 JWT with \`grant\``,
    async worker(index, http) {
      const requester = await ApiToken.obtain(http, paths, REQUESTER_CLIENT_ID, REQUESTER_CLIENT_SECRET);
      const approver = await ApiToken.obtain(http, paths, APPROVER_CLIENT_ID, APPROVER_CLIENT_SECRET);
      return {
        async between() {
          await requester.renewIfNear(http);
          await approver.renewIfNear(http);
        },
        async cycle(n) {
          const id = await fileRequest(http, paths, requester.value, CYCLE_GRANT, `benchmark cycle number ${n} of worker ${index}`);
          await approveRequest(http, paths, approver.value, id);
          // Every worker's grants belong to the one requester, so the exchange may be answered under any of its live grants.
          await exchangeForElevated(http, paths, requesterAuth, requester.value, null);
        },
      };
    },
  };
}

export const jitCycle: CycleCase = {
  kind: 'cycles',
  name: 'jit_cycle',
  summary:
    `The whole elevation flow as a client runs it, three dependent requests per cycle: the requester files an access ` +
    `request for ${ELEVATED_SCOPE} (one approval stage, policy decision, audit events), a member of the approver group ` +
    `approves it (state transition, grant, audit events), and the requester exchanges its baseline token for a token ` +
    `carrying the scope and the \`grant\` claim (RFC 8693). Every worker (as many as --connections) holds its own baseline ` +
    `tokens for both clients, renewed near expiry, and loops cycles on a keep-alive undici pool. A cycle counts only when ` +
    `each step answered with its expected status and body; a cycle's latency is from the request to the elevated token.`,
  subjects: ({ pg }) =>
    jitgateVariants(pg).map(
      (server): CycleSubject => ({
        server,
        role: 'jitgate',
        // The target is for the embedded database; PostgreSQL is measured for reference.
        ...(server === JITGATE_SQLITE ? { target: { kind: 'absolute', min: 500 } as const } : {}),
        prepare: async (s) => cyclePlan(s),
      }),
    ),
};
