/**
 * Which route of a resource a request falls under (pure). The first route,
 * in file order, whose methods and path both match decides; its `scopes`
 * are all needed. HEAD is allowed wherever GET is.
 */
import type { RouteDef } from '../policy/types.js';
import { compileRouteGlob } from './route-glob.js';

export interface CompiledRoute {
  /** Upper-case methods; null means any. */
  methods: ReadonlySet<string> | null;
  path: string;
  pattern: RegExp;
  scopes: readonly string[];
}

export type RouteMatch =
  | { kind: 'matched'; route: CompiledRoute }
  /** Some route has the path, none the method: answer 405 with these in Allow. */
  | { kind: 'method_not_allowed'; allow: string[] }
  | { kind: 'none' };

export function compileRoutes(routes: readonly RouteDef[]): CompiledRoute[] {
  return routes.map((r) => ({
    methods: r.methods.length === 0 ? null : new Set(r.methods),
    path: r.path,
    pattern: compileRouteGlob(r.path),
    scopes: r.scopes,
  }));
}

function allows(route: CompiledRoute, method: string): boolean {
  return route.methods === null || route.methods.has(method) || (method === 'HEAD' && route.methods.has('GET'));
}

/** One answer object per route, made once: matching a request allocates nothing. */
const MATCHED = new WeakMap<CompiledRoute, RouteMatch>();

export function matchRoute(routes: readonly CompiledRoute[], method: string, path: string): RouteMatch {
  let allow: Set<string> | null = null;
  for (const route of routes) {
    if (!route.pattern.test(path)) continue;
    if (allows(route, method)) {
      let hit = MATCHED.get(route);
      if (hit === undefined) MATCHED.set(route, (hit = { kind: 'matched', route }));
      return hit;
    }
    allow ??= new Set<string>();
    for (const m of route.methods ?? []) allow.add(m);
  }
  if (allow === null || allow.size === 0) return { kind: 'none' };
  if (allow.has('GET')) allow.add('HEAD');
  return { kind: 'method_not_allowed', allow: [...allow].sort() };
}
