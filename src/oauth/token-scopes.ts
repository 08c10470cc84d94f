import type { Policy, ResourceDef } from '../policy/types.js';
import type { ClientDef } from '../policy/types.js';
import { InvalidScope, InvalidTarget, InvalidRequest } from './errors.js';
import { parseScopeParam } from '../util/scope-string.js';

export interface TokenShape {
  /** `aud`: the resource's audience URI, or the issuer for jitgate's own API. */
  audience: string;
  resource: ResourceDef | null;
  scopes: string[];
  /** Seconds: the default lifetime cut down to the smallest `max_ttl` of the scopes. */
  lifetimeS: number;
}

export interface TokenShapeInput {
  policy: Policy;
  issuer: string;
  client: ClientDef;
  /** Raw `scope` parameter, undefined when absent. */
  scopeParam: string | undefined;
  /** Raw `resource` parameters (RFC 8707). */
  resourceParams: string[];
  /** Scopes the principal may have in this token. */
  allowed: ReadonlySet<string>;
  defaultLifetimeS: number;
}

/**
 * Decides audience, scopes and lifetime of a token (pure). A token carries
 * requested ∩ allowed; without `scope` it carries everything allowed that its
 * audience accepts. Asking for something not allowed is an error naming it,
 * never a silent narrowing, so callers learn what to request.
 */
export function shapeToken(input: TokenShapeInput): TokenShape {
  const { policy, client, allowed } = input;
  if (input.resourceParams.length > 1) {
    throw new InvalidTarget('one resource per token: send a single resource parameter');
  }
  const resourceUri = input.resourceParams[0];
  let resource: ResourceDef | null = null;
  if (resourceUri !== undefined && resourceUri !== input.issuer) {
    if (!isAbsoluteUriWithoutFragment(resourceUri)) {
      throw new InvalidTarget('resource must be an absolute URI without a fragment (RFC 8707)');
    }
    resource = policy.resources.get(resourceUri) ?? null;
    if (!resource) throw new InvalidTarget(`unknown resource ${resourceUri}`);
    if (client.environment && resource.environment && client.environment !== resource.environment) {
      throw new InvalidTarget(
        `client ${client.id} is bound to environment ${client.environment} and cannot get tokens for ${resourceUri} (${resource.environment})`,
      );
    }
  }
  const accepts = resource ? new Set(resource.scopes) : null;

  let scopes: string[];
  if (input.scopeParam === undefined) {
    scopes = [...allowed].filter((s) => !accepts || accepts.has(s)).sort();
  } else {
    const requested = parseScopeParam(input.scopeParam);
    if (requested === null) throw new InvalidRequest('scope contains a malformed scope token');
    const unknown = requested.filter((s) => !policy.scopes.has(s));
    if (unknown.length) {
      throw new InvalidScope(`unknown scope: ${unknown.join(' ')}`, { scopes: unknown });
    }
    const notAccepted = accepts ? requested.filter((s) => !accepts.has(s)) : [];
    if (notAccepted.length) {
      throw new InvalidScope(`${resourceUri} does not accept scope: ${notAccepted.join(' ')}`, {
        scopes: notAccepted,
      });
    }
    const notAllowed = requested.filter((s) => !allowed.has(s));
    if (notAllowed.length) {
      throw new InvalidScope(
        `not allowed without an access request: ${notAllowed.join(' ')}; ` +
          `request it with POST /api/v1/requests (or \`jitgate request ${notAllowed.join(' ')}\`)`,
        { scopes: notAllowed },
      );
    }
    scopes = requested.sort();
  }

  let lifetimeS = input.defaultLifetimeS;
  for (const s of scopes) {
    const max = policy.scopes.get(s)?.maxTtlS;
    if (max != null && max < lifetimeS) lifetimeS = max;
  }
  return { audience: resource ? resource.audience : input.issuer, resource, scopes, lifetimeS };
}

function isAbsoluteUriWithoutFragment(value: string): boolean {
  try {
    const u = new URL(value);
    return u.hash === '' && !value.includes('#');
  } catch {
    return false;
  }
}
