import type { Policy, ResourceDef } from './types.js';

/** Scopes of jitgate's own API: its administrative powers, requestable like any other scope. */
export const OWN_SCOPE_PREFIX = 'jitgate:';

/**
 * The policy with jitgate's own API added as a resource: audience = the
 * issuer, accepting every `jitgate:` scope the policy declares. The issuer is
 * known only to the running server, so this is applied there, not in the file.
 */
export function withOwnApi(policy: Policy, issuer: string): Policy {
  if (policy.resources.has(issuer)) return policy;
  const own: ResourceDef = {
    audience: issuer,
    environment: null,
    scopes: [...policy.scopes.keys()].filter((s) => s.startsWith(OWN_SCOPE_PREFIX)),
    upstream: null,
    injectHeaders: {},
    routes: [],
  };
  const resources = new Map(policy.resources);
  resources.set(issuer, own);
  return { ...policy, resources };
}
