/**
 * Raw, validated sections → the Policy the rest of jitgate reads: durations
 * in seconds, bundles expanded, regexes compiled, lookups as Maps. Runs only
 * when validation found no errors, so it does not re-check anything.
 */
import { parseDuration } from './duration.js';
import { expiresAtEpochS } from './expires.js';
import { parseClock } from './hours.js';
import type { RawHours, RawPolicy, RawRule } from './schema.js';
import { canonicalTimeZone } from './timezone.js';
import type {
  ApprovalStageDef,
  ClientDef,
  CompiledCondition,
  ExceptionDef,
  GroupDef,
  HoursWindow,
  JsonWebKeyLike,
  Policy,
  ResourceDef,
  RouteDef,
  RuleDef,
  ScopeDef,
  TrustedIssuer,
  LoginSettings,
  WebhookDef,
  Weekday,
} from './types.js';

/** Used when the file sets no timezone. */
export const DEFAULT_TIMEZONE = 'UTC';
/** Used when the file sets no business_hours: Monday to Friday, 09:00–17:00. */
export const DEFAULT_BUSINESS_HOURS: HoursWindow = {
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  fromMin: 9 * 60,
  toMin: 17 * 60,
};

export interface NormalizeInput {
  raw: RawPolicy;
  hash: string;
  /** Per rule, in file order, from compileRuleConditions. */
  conditions: readonly (CompiledCondition | null)[];
}

export function normalize({ raw, hash, conditions }: NormalizeInput): Policy {
  const timezone = canonicalTimeZone(raw.timezone ?? DEFAULT_TIMEZONE) ?? DEFAULT_TIMEZONE;
  const businessHours = raw.business_hours ? toWindow(raw.business_hours) : DEFAULT_BUSINESS_HOURS;

  const scopes = new Map<string, ScopeDef>();
  for (const [name, s] of Object.entries(raw.scopes ?? {})) {
    const allowed = s.allowed_hours;
    scopes.set(name, {
      name,
      risk: s.risk,
      maxTtlS: s.max_ttl === undefined ? null : seconds(s.max_ttl),
      mfa: s.mfa ?? false,
      ticketPattern: s.ticket ?? null,
      ticket: s.ticket === undefined ? null : new RegExp(s.ticket),
      allowedHours: allowed === undefined ? null : allowed === 'business_hours' ? businessHours : toWindow(allowed),
    });
  }

  const bundles = new Map<string, string[]>();
  for (const [name, list] of Object.entries(raw.bundles ?? {})) bundles.set(name, unique(list));

  const expand = (items: readonly string[]): { scopes: string[]; bundles: string[] } => {
    const out: string[] = [];
    const named: string[] = [];
    for (const item of items) {
      const bundle = scopes.has(item) ? undefined : bundles.get(item);
      if (bundle) {
        named.push(item);
        out.push(...bundle);
      } else out.push(item);
    }
    return { scopes: unique(out), bundles: unique(named) };
  };

  const resources = new Map<string, ResourceDef>();
  for (const r of raw.resources ?? []) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.inject_headers ?? {})) headers[k.toLowerCase()] = v;
    resources.set(r.audience, {
      audience: r.audience,
      environment: r.environment ?? null,
      scopes: unique(r.scopes),
      upstream: r.upstream ?? null,
      injectHeaders: headers,
      routes: (r.routes ?? []).map(
        (route): RouteDef => ({ methods: methods(route.method), path: route.path, scopes: unique(route.scopes) }),
      ),
    });
  }

  const groups = new Map<string, GroupDef>();
  const groupsOf = new Map<string, string[]>();
  for (const [name, g] of Object.entries(raw.groups ?? {})) {
    const eligible = expand(g.eligible ?? []);
    const members = unique(g.members);
    groups.set(name, {
      name,
      members,
      baseline: unique(g.baseline ?? []),
      eligible: eligible.scopes,
      eligibleBundles: eligible.bundles,
    });
    for (const member of members) {
      const list = groupsOf.get(member);
      if (list) list.push(name);
      else groupsOf.set(member, [name]);
    }
  }

  const clients = new Map<string, ClientDef>();
  for (const [id, c] of Object.entries(raw.clients ?? {})) {
    clients.set(id, {
      id,
      public: c.public ?? false,
      environment: c.environment ?? null,
      secretSha256: c.secret_sha256?.toLowerCase() ?? null,
      redirectUris: unique(c.redirect_uris ?? []),
      jwks: (c.jwks?.keys ?? []) as JsonWebKeyLike[],
      baseline: unique(c.baseline ?? []),
      eligible: expand(c.eligible ?? []).scopes,
    });
  }

  const trustedIssuers = (raw.identity?.trusted_issuers ?? []).map(
    (t): TrustedIssuer => ({
      issuer: t.issuer,
      jwksUri: t.jwks_uri,
      audience: t.audience,
      subject: t.subject,
      mfaAmr: unique(t.mfa_amr ?? []),
    }),
  );

  const upstream = raw.identity?.login?.upstream;
  const login: LoginSettings = {
    localUsers: raw.identity?.login?.local_users ?? true,
    upstream: upstream
      ? {
          issuer: upstream.issuer,
          clientId: upstream.client_id,
          clientSecretEnv: upstream.client_secret_env ?? null,
          authorizationEndpoint: upstream.authorization_endpoint ?? null,
          tokenEndpoint: upstream.token_endpoint ?? null,
          jwksUri: upstream.jwks_uri ?? null,
          scopes: unique(upstream.scopes ?? ['openid']),
          subject: upstream.subject ?? 'user:{sub}',
          mfaAmr: unique(upstream.mfa_amr ?? []),
          name: upstream.name ?? new URL(upstream.issuer).host,
        }
      : null,
  };

  const rules = (raw.rules ?? []).map((r, index): RuleDef => toRule(r, index, conditions[index] ?? null));

  const exceptions = (raw.exceptions ?? []).map(
    (e): ExceptionDef => ({
      principal: e.principal,
      scopes: unique(e.scopes),
      // Validated already; the fallback only satisfies the type: expired at once.
      expiresAt: expiresAtEpochS(e.expires, timezone) ?? 0,
      reason: e.reason,
      ticket: e.ticket ?? null,
    }),
  );

  const webhooks = (raw.alerts?.webhooks ?? []).map(
    (w): WebhookDef => ({
      url: w.url,
      secretEnv: w.secret_env ?? null,
      events: unique(w.events),
      format: w.format ?? 'json',
    }),
  );

  return {
    version: 1,
    hash,
    timezone,
    businessHours,
    trustedIssuers,
    login,
    scopes,
    resources,
    bundles,
    groups,
    clients,
    rules,
    defaultDecision: raw.default_decision ?? 'deny',
    exceptions,
    webhooks,
    groupsOf,
  };
}

function toRule(r: RawRule, index: number, condition: CompiledCondition | null): RuleDef {
  const m = r.match;
  return {
    name: r.name,
    index,
    match: {
      principals: m?.principals ? unique(m.principals) : null,
      groups: m?.groups ? unique(m.groups) : null,
      scopes: m?.scopes ? unique(m.scopes) : null,
      risk: m?.risk ? unique(m.risk) : null,
    },
    when: r.when ?? null,
    condition,
    decision: r.decision ?? null,
    stages:
      r.stages?.map(
        (st): ApprovalStageDef => ({
          approvers: unique(st.approvers),
          count: st.count ?? 1,
          timeoutS: st.timeout === undefined ? null : seconds(st.timeout),
          escalateTo: unique(st.escalate_to ?? []),
        }),
      ) ?? null,
  };
}

function toWindow(w: RawHours): HoursWindow {
  return {
    days: unique(w.days) as Weekday[],
    fromMin: parseClock(w.from) ?? 0,
    toMin: parseClock(w.to, true) ?? 1440,
  };
}

function methods(method: string | string[] | undefined): string[] {
  const list = method === undefined ? [] : Array.isArray(method) ? method : [method];
  const upper = unique(list.map((m) => m.toUpperCase()));
  return upper.includes('*') ? [] : upper;
}

function seconds(value: string | number): number {
  return parseDuration(value) ?? 0;
}

function unique<T>(list: readonly T[]): T[] {
  return [...new Set(list)];
}
