/**
 * What `jitgate demo` prints: where everything runs and the walk-through,
 * numbered, each command exactly as it works when pasted into the named
 * person's terminal. Pure.
 *
 * Layout contract (the walk-through test reads it): a step is a line
 * `N. [person] what happens`, followed by its commands, each indented six
 * spaces, up to a blank line. `REQUEST_ID` and `GRANT_ID` stand for ids an
 * earlier step printed.
 */
import { DEMO_BASELINE_SCOPE, DEMO_CI_CLIENT, DEMO_RESOURCE, DEMO_SCOPE } from './policy.js';

export interface DemoSetting {
  serverUrl: string;
  gatewayUrl: string;
  upstreamUrl: string;
  idpIssuer: string;
  /** The URL answering an ID token for each person. */
  idTokenUrl: (user: string) => string;
  /** Each person's XDG_CONFIG_HOME, so their logins do not mix. */
  configHome: (user: string) => string;
  policyPath: string;
  pid: number;
  ciSecret: string;
}

export const REQUESTER = 'alice';
export const APPROVER = 'carol';

/** The placeholders in the printed steps, and which earlier step prints their value. */
export const REQUEST_ID = 'REQUEST_ID';
export const GRANT_ID = 'GRANT_ID';

interface Step {
  who: string;
  what: string;
  commands: string[];
}

/** The walk-through: 403 → request → approve → 200 → revoke → 401. */
export function demoSteps(s: DemoSetting): Step[] {
  const jit = 'npx jitgate';
  // -w adds the line break a problem+json body lacks, so the prompt does not stick to it.
  const call = `curl -s -i -w '\\n' -H "Authorization: Bearer $TOKEN" ${s.gatewayUrl}/invoices`;
  const onBilling = `--resource ${DEMO_RESOURCE}`;
  return [
    {
      who: REQUESTER,
      what: 'log in (the demo identity provider signs her ID token)',
      commands: [`curl -s ${s.idTokenUrl(REQUESTER)} | ${jit} login --id-token-file -`],
    },
    {
      who: REQUESTER,
      what: `call the billing API through the gateway with her baseline token: 403, the answer names the scope to request (${DEMO_SCOPE})`,
      commands: [`TOKEN=$(${jit} token --scope ${DEMO_BASELINE_SCOPE} ${onBilling})`, call],
    },
    {
      who: REQUESTER,
      what: `ask for ${DEMO_SCOPE} for 15 minutes; the policy sends it to an SRE lead (note the request id)`,
      commands: [`${jit} request ${DEMO_SCOPE} ${onBilling} --for 15m --reason "reconcile the March invoices"`],
    },
    {
      who: APPROVER,
      what: `log in, see the request, approve it (${REQUEST_ID}: the id step 3 printed; note the grant id)`,
      commands: [`curl -s ${s.idTokenUrl(APPROVER)} | ${jit} login --id-token-file -`, `${jit} requests --to-approve`, `${jit} approve ${REQUEST_ID}`],
    },
    {
      who: REQUESTER,
      what: `the same call with a token the grant covers: 200, and the API saw only the gateway's own key`,
      commands: [`TOKEN=$(${jit} token --scope ${DEMO_SCOPE} ${onBilling})`, call],
    },
    {
      who: APPROVER,
      what: `revoke the grant (${GRANT_ID}: the grant id step 4 printed)`,
      commands: [`${jit} revoke ${GRANT_ID} --reason "the reconciliation is done"`],
    },
    {
      who: REQUESTER,
      what: 'the same call with the same token: 401, the revocation reached the gateway at once',
      commands: [call],
    },
  ];
}

/** The whole text printed at start. */
export function demoInstructions(s: DemoSetting): string {
  const terminal = (who: string, role: string) =>
    `  ${who}'s terminal (${role}):\n      export JITGATE_SERVER=${s.serverUrl} XDG_CONFIG_HOME=${s.configHome(who)}\n`;
  const steps = demoSteps(s)
    .map((step, i) => `  ${i + 1}. [${step.who}] ${step.what}\n${step.commands.map((c) => `      ${c}\n`).join('')}`)
    .join('\n');
  return `
jitgate demo is running, on this machine only (127.0.0.1):
  server:    ${s.serverUrl}
  gateway:   ${s.gatewayUrl}  in front of the demo billing API (${DEMO_RESOURCE}) at ${s.upstreamUrl}
  demo IdP:  ${s.idpIssuer}  DEMO ONLY: signs ID tokens for ${REQUESTER} and ${APPROVER} to anyone who asks,
             with a key made at start; it is the policy's only trusted issuer
  policy:    ${s.policyPath}  (kill -HUP ${s.pid} reloads it)
  client:    ${DEMO_CI_CLIENT}, secret for this run: ${s.ciSecret}

Try it: open two terminals in the jitgate directory, one for each person.

${terminal(REQUESTER, 'an engineer, the requester')}
${terminal(APPROVER, 'an SRE lead, the approver')}
${steps}
Press Ctrl-C to stop the demo.
`;
}
