/**
 * The resources a gateway serves and how a request finds its resource.
 *
 * A gateway listens on one port for every resource with an `upstream`
 * (or the ones `only` names). A request belongs to the resource whose
 * audience URI has the request's Host name (port ignored, case-insensitive):
 * `Host: billing.internal:8443` → `https://billing.internal`. A gateway
 * serving a single resource sends every request there, whatever its Host,
 * so it can be reached as `localhost:PORT`. Two served resources with the
 * same host name would make the choice ambiguous: the gateway refuses to start.
 */
import type { Policy } from '../policy/types.js';
import { JitgateError } from '../util/errors.js';
import { compileRoutes, type CompiledRoute } from './routes.js';
import { expandInjectedHeaders } from './inject-headers.js';

export interface GatewayResource {
  audience: string;
  /** Lower-case host name of the audience: what requests are matched on. */
  hostname: string;
  /** Origin of the upstream (`http://127.0.0.1:9000`). */
  upstreamOrigin: string;
  /** Path of the upstream URL without a trailing slash ('' for none): prefixed to every forwarded path. */
  upstreamBasePath: string;
  injected: Readonly<Record<string, string>>;
  routes: readonly CompiledRoute[];
  /** Scopes the resource accepts, for the 403 hints. */
  scopes: readonly string[];
}

export interface GatewayResources {
  list: readonly GatewayResource[];
  /** The resource a Host header names, or null. */
  forHost(host: string | undefined): GatewayResource | null;
}

/** A Host header as the name it carries: lower case, without port or trailing dot; null when malformed. */
export function hostnameOf(host: string): string | null {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(host);
  if (!m) return null;
  return m[1]!.toLowerCase().replace(/\.$/, '');
}

/**
 * The resources of `policy` the gateway serves: those with an `upstream`,
 * limited to `only` (audiences) when given. Throws JitgateError
 * `gateway_no_resources`, `gateway_resource_unknown`, `gateway_host_ambiguous`,
 * or those of {@link expandInjectedHeaders}.
 */
export function gatewayResources(policy: Policy, env: Readonly<Record<string, string | undefined>>, only?: readonly string[]): GatewayResources {
  const chosen = [...policy.resources.values()].filter((r) => r.upstream !== null && (!only?.length || only.includes(r.audience)));
  for (const a of only ?? []) {
    const r = policy.resources.get(a);
    if (!r) throw new JitgateError('gateway_resource_unknown', `the policy has no resource ${a}`);
    if (r.upstream === null) throw new JitgateError('gateway_resource_unknown', `resource ${a} has no upstream to forward to`);
  }
  if (chosen.length === 0) throw new JitgateError('gateway_no_resources', 'no resource in the policy has an upstream; nothing to serve');
  const list: GatewayResource[] = chosen.map((r) => {
    const audience = new URL(r.audience);
    const upstream = new URL(r.upstream!);
    return {
      audience: r.audience,
      hostname: audience.hostname.toLowerCase().replace(/\.$/, ''),
      upstreamOrigin: upstream.origin,
      upstreamBasePath: upstream.pathname.replace(/\/+$/, ''),
      injected: expandInjectedHeaders(r.injectHeaders, env, r.audience),
      routes: compileRoutes(r.routes),
      scopes: r.scopes,
    };
  });
  const byHost = new Map<string, GatewayResource>();
  for (const r of list) {
    if (list.length > 1 && r.hostname === '') {
      throw new JitgateError('gateway_host_ambiguous', `${r.audience} has no host name to match requests on; serve it from a gateway of its own (--resource)`);
    }
    const other = byHost.get(r.hostname);
    if (other) {
      throw new JitgateError(
        'gateway_host_ambiguous',
        `${other.audience} and ${r.audience} have the same host name; serve them from separate gateways (--resource)`,
      );
    }
    byHost.set(r.hostname, r);
  }
  const single = list.length === 1 ? list[0]! : null;
  return {
    list,
    forHost(host) {
      if (single) return single;
      const name = host === undefined ? null : hostnameOf(host);
      return name === null ? null : (byHost.get(name) ?? null);
    },
  };
}
