/**
 * The raw shape of the policy file, section by section. Only structure and
 * the form of each value are checked here; references between sections are
 * cross-checked afterwards, and normalize.ts turns the result into a Policy.
 * Every object is strict: an unknown key is a typo until proven otherwise.
 */
import * as z from 'zod';
import { ALERT_EVENTS } from './alert-events.js';
import { DURATION_HINT, parseDuration } from './duration.js';
import { EXPIRES_HINT, isExpiresValue } from './expires.js';
import { WEEKDAYS, parseClock } from './hours.js';
import {
  CLAIM_PLACEHOLDER,
  CLIENT_ID,
  ENTITY_NAME,
  ENVIRONMENT_NAME,
  ENV_VAR_NAME,
  HEADER_NAME,
  HTTP_METHOD,
  PRINCIPAL,
  SCOPE_NAME,
  isAbsoluteUriWithoutFragment,
  isHttpUrl,
} from './names.js';
import { canonicalTimeZone } from './timezone.js';

const RISKS = ['low', 'medium', 'high', 'critical'] as const;

const scopeName = z
  .string()
  .regex(SCOPE_NAME, { error: 'not a scope name: use printable ASCII without spaces, " or \\ (RFC 6749 scope-token)' });

const scopeOrBundle = scopeName;

const entityName = (what: string) =>
  z.string().regex(ENTITY_NAME, {
    error: `not a ${what} name: start with a letter or digit, then letters, digits, ".", "_", ":" or "-"`,
  });

const principal = z.string().regex(PRINCIPAL, { error: 'a principal is user:<id> or client:<id>' });

const nonEmpty = z.string().min(1, { error: 'must not be empty' });

const duration = z.custom<string | number>((v) => parseDuration(v) !== null, {
  error: (iss) => (iss.input === undefined ? 'required key is missing' : `not a duration: ${DURATION_HINT}`),
});

const httpUrl = z.string().refine(isHttpUrl, { error: 'must be an absolute http:// or https:// URL' });

const absoluteUri = z
  .string()
  .refine(isAbsoluteUriWithoutFragment, { error: 'must be an absolute URI without a fragment' });

const environmentName = z.string().regex(ENVIRONMENT_NAME, {
  error: 'not an environment name: letters, digits, ".", "_" or "-"',
});

const weekdays = z
  .array(z.enum(WEEKDAYS as [string, ...string[]], { error: `days are ${WEEKDAYS.join(', ')}` }))
  .min(1, { error: 'name at least one day' });

const hoursWindow = z
  .strictObject({
    days: weekdays,
    from: z.string().refine((v) => parseClock(v) !== null, { error: 'write the start as HH:MM (00:00–23:59)' }),
    to: z.string().refine((v) => parseClock(v, true) !== null, { error: 'write the end as HH:MM (00:00–24:00)' }),
  })
  .refine((w) => parseClock(w.from) !== parseClock(w.to, true), {
    error: 'from and to are the same time, so the window is empty (for a whole day write 00:00 to 24:00)',
    path: ['to'],
  });

const ticketPattern = z.string().min(1, { error: 'must not be empty' }).superRefine((value, ctx) => {
  try {
    new RegExp(value);
  } catch (err) {
    const why = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${why}` });
  }
});

const scopeDef = z.strictObject({
  risk: z.enum(RISKS, { error: (iss) => (iss.input === undefined ? 'required key is missing' : `risk is one of ${RISKS.join(', ')}`) }),
  max_ttl: duration.optional(),
  mfa: z.boolean().optional(),
  ticket: ticketPattern.optional(),
  allowed_hours: z
    .union([z.literal('business_hours'), hoursWindow], {
      error: 'allowed_hours is "business_hours" or { days, from, to }',
    })
    .optional(),
});

const claimTemplate = z.string().superRefine((value, ctx) => {
  if (!/^(user|client):/.test(value)) {
    ctx.addIssue({ code: 'custom', message: 'the subject template must produce a principal: start it with user: or client:' });
  }
  const placeholders = value.match(CLAIM_PLACEHOLDER) ?? [];
  if (placeholders.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'the subject template needs at least one {claim} placeholder, such as user:{sub}' });
  }
  if (/[{}]/.test(value.replace(CLAIM_PLACEHOLDER, ''))) {
    ctx.addIssue({ code: 'custom', message: 'unbalanced { } in the subject template; placeholders look like {sub}' });
  }
});

const trustedIssuer = z.strictObject({
  issuer: httpUrl,
  jwks_uri: httpUrl,
  audience: nonEmpty,
  subject: claimTemplate,
  mfa_amr: z.array(nonEmpty).optional(),
});

/** `identity.login.upstream`: an OpenID Provider people may sign in with on the login page. */
const upstreamLogin = z.strictObject({
  issuer: httpUrl,
  client_id: nonEmpty,
  /** Absent: jitgate is a public client at the provider (PKCE only). */
  client_secret_env: z.string().regex(ENV_VAR_NAME, { error: 'an environment variable name: letters, digits and _' }).optional(),
  authorization_endpoint: httpUrl.optional(),
  token_endpoint: httpUrl.optional(),
  jwks_uri: httpUrl.optional(),
  scopes: z
    .array(scopeName)
    .refine((s) => s.includes('openid'), { error: 'the scopes of an OpenID Connect login include openid' })
    .optional(),
  subject: claimTemplate.optional(),
  mfa_amr: z.array(nonEmpty).optional(),
  /** What the login page's button says: "Sign in with <name>". */
  name: z.string().min(1).max(60).optional(),
});

/** `identity.login`: how people sign in on jitgate's own login page. */
const loginSettings = z.strictObject({
  local_users: z.boolean().optional(),
  upstream: upstreamLogin.optional(),
});

const headerTemplate = z.string().superRefine((value, ctx) => {
  const stripped = value.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, '');
  if (stripped.includes('${')) {
    ctx.addIssue({ code: 'custom', message: 'a ${…} reference names an environment variable: ${NAME} with letters, digits and _' });
  }
  if (/[\r\n\0]/.test(value)) ctx.addIssue({ code: 'custom', message: 'a header value cannot contain line breaks' });
});

const httpMethod = z.string().regex(HTTP_METHOD, { error: 'not an HTTP method' });

const route = z.strictObject({
  method: z
    .union([httpMethod, z.array(httpMethod).min(1, { error: 'name at least one method' })], {
      error: 'method is a method name (GET) or a list of them ([POST, DELETE])',
    })
    .optional(),
  path: z.string().refine((p) => p.startsWith('/'), { error: 'a route path starts with /' }),
  scopes: z.array(scopeName).min(1, { error: 'name at least one scope' }),
});

const resource = z.strictObject({
  audience: absoluteUri,
  environment: environmentName.optional(),
  scopes: z.array(scopeName).min(1, { error: 'name at least one scope' }),
  upstream: httpUrl.optional(),
  inject_headers: z
    .record(z.string().regex(HEADER_NAME, { error: 'not an HTTP header name' }), headerTemplate)
    .optional(),
  routes: z.array(route).optional(),
});

const group = z.strictObject({
  members: z.array(principal),
  baseline: z.array(scopeName).optional(),
  eligible: z.array(scopeOrBundle).optional(),
});

const jwk = z.looseObject({});

const client = z.strictObject({
  public: z.boolean().optional(),
  environment: environmentName.optional(),
  secret_sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, { error: 'secret_sha256 is the SHA-256 of the secret: exactly 64 hex characters' })
    .optional(),
  redirect_uris: z.array(absoluteUri).optional(),
  jwks: z.strictObject({ keys: z.array(jwk).min(1, { error: 'list at least one public key' }) }).optional(),
  baseline: z.array(scopeName).optional(),
  eligible: z.array(scopeOrBundle).optional(),
});

const stage = z.strictObject({
  approvers: z.array(nonEmpty).min(1, { error: 'name at least one approver group' }),
  count: z.number().int({ error: 'count is a whole number' }).min(1, { error: 'count is at least 1' }).optional(),
  timeout: duration.optional(),
  escalate_to: z.array(nonEmpty).optional(),
});

const matchNothing = 'an empty list would match nothing; leave the key out to match anything';

const rule = z.strictObject({
  name: nonEmpty,
  match: z
    .strictObject({
      principals: z.array(principal).min(1, { error: matchNothing }).optional(),
      groups: z.array(nonEmpty).min(1, { error: matchNothing }).optional(),
      scopes: z.array(scopeName).min(1, { error: matchNothing }).optional(),
      risk: z.array(z.enum(RISKS, { error: `risk is one of ${RISKS.join(', ')}` })).min(1, { error: matchNothing }).optional(),
    })
    .optional(),
  when: nonEmpty.optional(),
  decision: z.enum(['approve', 'deny', 'break_glass'], { error: 'decision is approve, deny or break_glass' }).optional(),
  stages: z.array(stage).min(1, { error: 'list at least one stage' }).optional(),
});

const exception = z.strictObject({
  principal,
  scopes: z.array(scopeName).min(1, { error: 'name at least one scope' }),
  expires: z.custom<string | Date>(isExpiresValue, {
    error: (iss) =>
      iss.input === undefined
        ? `every exception needs expires: ${EXPIRES_HINT}`
        : `not a date or timestamp: ${EXPIRES_HINT}`,
  }),
  reason: z.string().trim().min(1, { error: 'every exception needs a reason' }),
  ticket: nonEmpty.optional(),
});

const webhook = z.strictObject({
  url: httpUrl,
  secret_env: z.string().regex(ENV_VAR_NAME, { error: 'not an environment variable name' }).optional(),
  events: z
    .array(z.enum(ALERT_EVENTS, { error: `events are ${ALERT_EVENTS.join(', ')}` }))
    .min(1, { error: 'name at least one event' }),
  format: z.enum(['json', 'slack'], { error: 'format is json or slack' }).optional(),
});

/** One schema per top-level key, so a broken section does not hide findings in the others. */
export const SECTION_SCHEMAS = {
  version: z.literal(1, { error: (iss) => (iss.input === undefined ? 'required key is missing: write version: 1' : 'version must be 1') }),
  timezone: z
    .string()
    .refine((tz) => canonicalTimeZone(tz) !== null, { error: 'not an IANA time zone name (such as Europe/Berlin or UTC)' })
    .optional(),
  business_hours: hoursWindow.optional(),
  identity: z.strictObject({ trusted_issuers: z.array(trustedIssuer).optional(), login: loginSettings.optional() }).optional(),
  scopes: z.record(scopeName, scopeDef).optional(),
  resources: z.array(resource).optional(),
  bundles: z.record(entityName('bundle'), z.array(scopeName).min(1, { error: 'a bundle names at least one scope' })).optional(),
  groups: z.record(entityName('group'), group).optional(),
  clients: z.record(z.string().regex(CLIENT_ID, { error: 'not a client id: visible ASCII without spaces' }), client).optional(),
  rules: z.array(rule).optional(),
  default_decision: z.enum(['approve', 'deny'], { error: 'default_decision is approve or deny' }).optional(),
  exceptions: z.array(exception).optional(),
  alerts: z.strictObject({ webhooks: z.array(webhook).optional() }).optional(),
} as const;

export type SectionName = keyof typeof SECTION_SCHEMAS;
export const SECTION_NAMES = Object.keys(SECTION_SCHEMAS) as SectionName[];

/** The raw policy after schema validation, one entry per section that passed. */
export type RawSections = { [K in SectionName]?: z.output<(typeof SECTION_SCHEMAS)[K]> };
/** Every section passed: what normalize() needs. */
export type RawPolicy = { [K in SectionName]: z.output<(typeof SECTION_SCHEMAS)[K]> };

export type RawScope = z.output<typeof scopeDef>;
export type RawHours = z.output<typeof hoursWindow>;
export type RawResource = z.output<typeof resource>;
export type RawGroup = z.output<typeof group>;
export type RawClient = z.output<typeof client>;
export type RawRule = z.output<typeof rule>;
export type RawException = z.output<typeof exception>;
