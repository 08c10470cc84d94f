/**
 * The demo's policy: the example policy with what a run on one machine
 * needs. Pure: example text and this run's settings in, policy text out.
 */
import { createHash } from 'node:crypto';
import { parseDocument, type Document } from 'yaml';
import { DEMO_IDP_AUDIENCE } from './identity-provider.js';

/** The resource the demo gateway serves and the scope the walk-through asks for. */
export const DEMO_RESOURCE = 'https://billing.internal';
export const DEMO_SCOPE = 'read:billing';
/** The baseline scope the demo's requester already holds. */
export const DEMO_BASELINE_SCOPE = 'read:logs';
export const DEMO_CI_CLIENT = 'ci-pipeline';
export const DEMO_GATEWAY_CLIENT = 'jitgate-gateway';
/** The `${NAME}` the example's `inject_headers` reads for the billing API's key. */
export const DEMO_API_KEY_ENV = 'BILLING_API_KEY';

export interface DemoPolicySettings {
  idpIssuer: string;
  idpJwksUri: string;
  upstreamUrl: string;
  ciSecret: string;
  gatewaySecret: string;
}

const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * The example policy, changed only where a demo must differ: the demo
 * identity provider is the trusted issuer, the billing resource's upstream
 * is the demo API, the gateway and CI clients get secrets made for this run,
 * and engineers may ask for `read:billing`, which an SRE lead approves.
 */
export function demoPolicy(exampleText: string, s: DemoPolicySettings): string {
  const doc = parseDocument(exampleText);
  doc.setIn(['identity', 'trusted_issuers'], doc.createNode([{ issuer: s.idpIssuer, jwks_uri: s.idpJwksUri, audience: DEMO_IDP_AUDIENCE, subject: 'user:{sub}' }]));
  doc.setIn(['scopes', 'jitgate:gateway'], doc.createNode({ risk: 'low' }));
  doc.setIn(['clients', DEMO_CI_CLIENT, 'secret_sha256'], sha256hex(s.ciSecret));
  doc.setIn(['clients', DEMO_GATEWAY_CLIENT], doc.createNode({ secret_sha256: sha256hex(s.gatewaySecret), baseline: ['jitgate:gateway'] }));
  const resourceIndex = indexWhere(doc, ['resources'], (r) => r.audience === DEMO_RESOURCE);
  doc.setIn(['resources', resourceIndex, 'upstream'], s.upstreamUrl);
  const eligible = (doc.getIn(['groups', 'engineers', 'eligible']) as { toJSON(): unknown } | undefined)?.toJSON();
  const list = Array.isArray(eligible) ? eligible : [];
  if (!list.includes(DEMO_SCOPE)) doc.setIn(['groups', 'engineers', 'eligible'], doc.createNode([...list, DEMO_SCOPE]));
  const rules = doc.getIn(['rules']) as { items: unknown[] } | undefined;
  if (!rules || !Array.isArray(rules.items)) throw new Error('the example policy has no rules list');
  // First match decides: put the demo's rule first so nothing above it catches read:billing.
  rules.items.unshift(
    doc.createNode({
      name: 'demo: billing reads need a lead',
      match: { scopes: [DEMO_SCOPE] },
      stages: [{ approvers: ['sre-leads'], count: 1, timeout: '15m' }],
    }),
  );
  return `# Written by jitgate demo from examples/policy.yaml for this run; it is rewritten at each start.\n${doc.toString({ lineWidth: 0 })}`;
}

function indexWhere(doc: Document, path: string[], pred: (item: Record<string, unknown>) => boolean): number {
  const items = (doc.getIn(path) as { toJSON(): unknown } | undefined)?.toJSON();
  const index = Array.isArray(items) ? items.findIndex((i) => i && typeof i === 'object' && pred(i as Record<string, unknown>)) : -1;
  if (index < 0) throw new Error(`the example policy has no ${path.join('.')} entry for the demo`);
  return index;
}
