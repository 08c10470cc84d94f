/**
 * Checks that need more than one section: every name a section refers to
 * exists, names that must be unique are, and combinations that cannot work
 * (a rule with both a decision and stages, a public client with a secret) are
 * refused. Sections that failed their schema are skipped, as are references
 * into them, so one broken section does not bury the file in false alarms.
 */
import { expiresAtEpochS } from './expires.js';
import type { Finding } from './finding.js';
import { error, warning } from './finding.js';
import { publicJwkProblems } from './jwk.js';
import type { PolicyPath } from './path.js';
import type { RawSections, SectionName } from './schema.js';
import { didYouMean } from './suggest.js';
import { canonicalTimeZone } from './timezone.js';

export interface CrossCheckInput {
  sections: RawSections;
  failed: ReadonlySet<SectionName>;
  /** Epoch seconds, for "already expired". */
  now: number;
}

const STANDING_RISKS = new Set(['high', 'critical']);

export function crossCheck({ sections: s, failed, now }: CrossCheckInput): Finding[] {
  const out: Finding[] = [];
  const ok = (name: SectionName) => !failed.has(name);

  const scopeNames = ok('scopes') ? new Set(Object.keys(s.scopes ?? {})) : null;
  const bundleNames = ok('bundles') ? new Set(Object.keys(s.bundles ?? {})) : null;
  const groupNames = ok('groups') ? new Set(Object.keys(s.groups ?? {})) : null;

  const scopeRef = (path: PolicyPath, name: string) => {
    if (scopeNames && !scopeNames.has(name)) {
      out.push(error(path, `unknown scope "${name}"${didYouMean(name, scopeNames)}; declare it under scopes`));
    }
  };
  const scopeOrBundleRef = (path: PolicyPath, name: string) => {
    if (!scopeNames || !bundleNames || scopeNames.has(name) || bundleNames.has(name)) return;
    out.push(error(path, `unknown scope or bundle "${name}"${didYouMean(name, [...scopeNames, ...bundleNames])}`));
  };
  const groupRef = (path: PolicyPath, name: string) => {
    if (groupNames && !groupNames.has(name)) {
      out.push(error(path, `unknown group "${name}"${didYouMean(name, groupNames)}`));
    }
  };
  const standing = (path: PolicyPath, name: string, holder: string) => {
    const risk = s.scopes?.[name]?.risk;
    if (risk && STANDING_RISKS.has(risk)) {
      out.push(
        warning(path, `baseline gives ${holder} standing access to ${risk}-risk scope "${name}"; make it eligible instead`),
      );
    }
  };

  // scopes
  for (const [name, scope] of Object.entries(s.scopes ?? {})) {
    const pattern = scope.ticket;
    if (pattern !== undefined && !(pattern.startsWith('^') && pattern.endsWith('$'))) {
      out.push(
        warning(['scopes', name, 'ticket'], 'the ticket pattern is not anchored with ^…$, so any ticket that merely contains a match passes'),
      );
    }
  }

  // identity
  const issuers = new Map<string, number>();
  (s.identity?.trusted_issuers ?? []).forEach((iss, i) => {
    const first = issuers.get(iss.issuer);
    if (first !== undefined) {
      out.push(error(['identity', 'trusted_issuers', i, 'issuer'], `duplicate issuer, already at trusted_issuers[${first}]`));
    } else issuers.set(iss.issuer, i);
  });
  const login = s.identity?.login;
  if (login?.local_users === false && !login.upstream) {
    out.push(warning(['identity', 'login', 'local_users'], 'with local users off and no upstream provider, nobody can sign in on the login page'));
  }
  const upstreamIssuer = login?.upstream?.issuer;
  if (upstreamIssuer && upstreamIssuer.startsWith('http:') && !/^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:|\/|$)/.test(upstreamIssuer)) {
    out.push(warning(['identity', 'login', 'upstream', 'issuer'], 'the upstream provider is reached over plain http; use https outside a test setup'));
  }

  // resources
  const audiences = new Map<string, number>();
  (s.resources ?? []).forEach((res, i) => {
    const at = ['resources', i] as const;
    const first = audiences.get(res.audience);
    if (first !== undefined) out.push(error([...at, 'audience'], `duplicate audience, already at resources[${first}]`));
    else audiences.set(res.audience, i);
    res.scopes.forEach((name, j) => scopeRef([...at, 'scopes', j], name));
    const accepted = new Set(res.scopes);
    (res.routes ?? []).forEach((route, r) => {
      route.scopes.forEach((name, j) => {
        const path = [...at, 'routes', r, 'scopes', j];
        if (scopeNames && !scopeNames.has(name)) scopeRef(path, name);
        else if (!accepted.has(name)) {
          out.push(error(path, `route scope "${name}" is not among this resource's scopes; add it to resources[${i}].scopes`));
        }
      });
    });
    const headers = new Map<string, string>();
    for (const header of Object.keys(res.inject_headers ?? {})) {
      const lower = header.toLowerCase();
      const seen = headers.get(lower);
      if (seen !== undefined) {
        out.push(error([...at, 'inject_headers', header], `header "${header}" is also written as "${seen}"; header names ignore case`, { atKey: true }));
      } else headers.set(lower, header);
    }
    if (!res.upstream && (res.routes?.length || Object.keys(res.inject_headers ?? {}).length)) {
      out.push(warning([...at], 'routes and inject_headers take effect only at a gateway, which needs upstream'));
    }
  });

  // bundles
  for (const [name, scopes] of Object.entries(s.bundles ?? {})) {
    if (scopeNames?.has(name)) {
      out.push(error(['bundles', name], `bundle "${name}" has the name of a scope; eligible lists could not tell them apart`, { atKey: true }));
    }
    scopes.forEach((scope, j) => scopeRef(['bundles', name, j], scope));
  }

  // groups
  for (const [name, group] of Object.entries(s.groups ?? {})) {
    (group.baseline ?? []).forEach((scope, j) => {
      scopeRef(['groups', name, 'baseline', j], scope);
      standing(['groups', name, 'baseline', j], scope, `every member of group ${name}`);
    });
    (group.eligible ?? []).forEach((item, j) => scopeOrBundleRef(['groups', name, 'eligible', j], item));
  }

  // clients
  for (const [id, client] of Object.entries(s.clients ?? {})) {
    const at = ['clients', id] as const;
    const keys = client.jwks?.keys ?? [];
    if (client.public) {
      if (client.secret_sha256 !== undefined) {
        out.push(error([...at, 'secret_sha256'], 'a public client cannot keep a secret; remove secret_sha256 or public: true'));
      }
      if (client.jwks !== undefined) {
        out.push(error([...at, 'jwks'], 'a public client has no keys; remove jwks or public: true'));
      }
    } else if (client.secret_sha256 === undefined && client.jwks === undefined) {
      out.push(
        error([...at], 'a confidential client needs secret_sha256 or jwks to authenticate (or public: true for one that cannot keep a secret)'),
      );
    }
    keys.forEach((key, k) => {
      for (const problem of publicJwkProblems(key)) {
        const path: PolicyPath = problem.member ? [...at, 'jwks', 'keys', k, problem.member] : [...at, 'jwks', 'keys', k];
        out.push(error(path, problem.message, { atKey: problem.member !== null && problem.member in key }));
      }
    });
    (client.baseline ?? []).forEach((scope, j) => {
      scopeRef([...at, 'baseline', j], scope);
      standing([...at, 'baseline', j], scope, `client ${id}`);
    });
    (client.eligible ?? []).forEach((item, j) => scopeOrBundleRef([...at, 'eligible', j], item));
  }

  // rules
  const ruleNames = new Map<string, number>();
  let catchAll: number | null = null;
  (s.rules ?? []).forEach((rule, i) => {
    const at = ['rules', i] as const;
    const first = ruleNames.get(rule.name);
    if (first !== undefined) out.push(error([...at, 'name'], `duplicate rule name, already at rules[${first}]`));
    else ruleNames.set(rule.name, i);
    const hasDecision = rule.decision !== undefined;
    const hasStages = rule.stages !== undefined;
    if (hasDecision && hasStages) {
      out.push(error([...at, 'stages'], 'a rule has either decision or stages, not both'));
    } else if (!hasDecision && !hasStages) {
      out.push(error([...at], 'a rule needs decision (approve, deny, break_glass) or stages'));
    }
    const m = rule.match;
    (m?.groups ?? []).forEach((g, j) => groupRef([...at, 'match', 'groups', j], g));
    (m?.scopes ?? []).forEach((sc, j) => scopeRef([...at, 'match', 'scopes', j], sc));
    (rule.stages ?? []).forEach((stage, k) => {
      const st = [...at, 'stages', k] as const;
      stage.approvers.forEach((g, j) => groupRef([...st, 'approvers', j], g));
      (stage.escalate_to ?? []).forEach((g, j) => groupRef([...st, 'escalate_to', j], g));
      if (stage.escalate_to?.length && stage.timeout === undefined) {
        out.push(warning([...st, 'escalate_to'], 'escalation happens when a stage times out; without timeout it never does'));
      }
      const count = stage.count ?? 1;
      if (groupNames && stage.approvers.every((g) => groupNames.has(g))) {
        const people = new Set(stage.approvers.flatMap((g) => s.groups?.[g]?.members ?? []));
        if (people.size < count) {
          out.push(
            warning([...st, 'count'], `needs ${count} approvals but the approver groups have ${people.size} member${people.size === 1 ? '' : 's'}; such requests can only time out`),
          );
        }
      }
    });
    const matchesAll = !m || Object.values(m).every((v) => v === undefined);
    if (matchesAll && rule.when === undefined && catchAll === null) catchAll = i;
  });
  const ruleCount = s.rules?.length ?? 0;
  if (catchAll !== null && catchAll < ruleCount - 1) {
    const unreached = ruleCount - 1 - catchAll;
    out.push(
      warning(['rules', catchAll], `this rule matches every request, so the ${unreached === 1 ? 'rule' : `${unreached} rules`} below it never decide anything`),
    );
  }

  // exceptions
  const tz = ok('timezone') ? canonicalTimeZone(s.timezone ?? 'UTC') : null;
  (s.exceptions ?? []).forEach((ex, i) => {
    ex.scopes.forEach((scope, j) => scopeRef(['exceptions', i, 'scopes', j], scope));
    if (tz === null) return;
    const expiresAt = expiresAtEpochS(ex.expires, tz);
    if (expiresAt !== null && expiresAt <= now) {
      out.push(warning(['exceptions', i, 'expires'], `ended at ${new Date(expiresAt * 1000).toISOString().replace('.000Z', 'Z')}; it grants nothing now and can be removed`));
    }
  });

  return out;
}
