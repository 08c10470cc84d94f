/**
 * The loaded, validated and normalized policy. Everything the server, the
 * decision engine and the gateway read comes from here; the raw YAML shape is
 * private to the loader. Durations are seconds, names are kept as written.
 */

export type Risk = 'low' | 'medium' | 'high' | 'critical';
export const RISK_ORDER: readonly Risk[] = ['low', 'medium', 'high', 'critical'];

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** A weekly window in the policy's time zone; `from`/`to` are minutes after midnight. */
export interface HoursWindow {
  days: Weekday[];
  fromMin: number;
  toMin: number;
}

export interface ScopeDef {
  name: string;
  risk: Risk;
  /** Upper bound for any token or grant carrying the scope, seconds. */
  maxTtlS: number | null;
  /** People (`user:`) need recent MFA to request or approve it. */
  mfa: boolean;
  /** Source of the ticket pattern; when set a ticket is required and must match. */
  ticketPattern: string | null;
  ticket: RegExp | null;
  /** When the scope may be requested; null means any time. */
  allowedHours: HoursWindow | null;
}

export interface RouteDef {
  /** Upper-case HTTP methods; empty means any method. */
  methods: string[];
  /** Glob as written (`/invoices/**`). */
  path: string;
  scopes: string[];
}

export interface ResourceDef {
  /** The audience URI (RFC 8707 resource indicator). */
  audience: string;
  environment: string | null;
  scopes: string[];
  upstream: string | null;
  /** Header name (lower case) to value template, `${ENV}` not yet expanded. */
  injectHeaders: Record<string, string>;
  routes: RouteDef[];
}

export interface GroupDef {
  name: string;
  members: string[];
  baseline: string[];
  /** Scopes after bundle expansion. */
  eligible: string[];
  /** Bundle names as written in `eligible`, for display. */
  eligibleBundles: string[];
}

export interface ClientDef {
  id: string;
  public: boolean;
  environment: string | null;
  /** Lower-case hex SHA-256 of the client secret. */
  secretSha256: string | null;
  redirectUris: string[];
  /** Public JWKs for private_key_jwt client authentication. */
  jwks: JsonWebKeyLike[];
  baseline: string[];
  eligible: string[];
}

export interface JsonWebKeyLike {
  kty: string;
  kid?: string;
  alg?: string;
  [k: string]: unknown;
}

export interface TrustedIssuer {
  issuer: string;
  jwksUri: string;
  audience: string;
  /** Template such as `user:{sub}`; `{claim}` is replaced by that claim. */
  subject: string;
  mfaAmr: string[];
}

/** An OpenID Provider people sign in with on the login page (`identity.login.upstream`). */
export interface UpstreamLogin {
  issuer: string;
  clientId: string;
  /** Environment variable holding the client secret; null for a public client (PKCE only). */
  clientSecretEnv: string | null;
  /** Null: read from the issuer's discovery document. */
  authorizationEndpoint: string | null;
  tokenEndpoint: string | null;
  jwksUri: string | null;
  scopes: string[];
  /** Template such as `user:{sub}` mapping the ID token's claims to a principal. */
  subject: string;
  /** `amr` values of the ID token that count as MFA. */
  mfaAmr: string[];
  /** Shown on the button, "Sign in with <name>"; defaults to the issuer's host. */
  name: string;
}

/** `identity.login`: how people sign in on the login page. */
export interface LoginSettings {
  /** Username, password and TOTP of jitgate's local users. Default true. */
  localUsers: boolean;
  upstream: UpstreamLogin | null;
}

export interface ApprovalStageDef {
  approvers: string[];
  count: number;
  timeoutS: number | null;
  escalateTo: string[];
}

export type RuleDecision = 'approve' | 'deny' | 'break_glass';

export interface RuleMatch {
  principals: string[] | null;
  groups: string[] | null;
  scopes: string[] | null;
  risk: Risk[] | null;
}

export interface RuleDef {
  name: string;
  /** Position in the file, first match decides. */
  index: number;
  match: RuleMatch;
  /** CEL source, null when the rule has no condition. */
  when: string | null;
  /** Compiled CEL program; evaluate(context) returns the value or throws. */
  condition: CompiledCondition | null;
  decision: RuleDecision | null;
  stages: ApprovalStageDef[] | null;
}

export interface CompiledCondition {
  source: string;
  evaluate(context: Record<string, unknown>): unknown;
}

export interface ExceptionDef {
  principal: string;
  scopes: string[];
  /** Epoch seconds; the exception is live strictly before this instant. */
  expiresAt: number;
  reason: string;
  ticket: string | null;
}

export interface WebhookDef {
  url: string;
  secretEnv: string | null;
  events: string[];
  format: 'json' | 'slack';
}

export interface Policy {
  version: 1;
  /** SHA-256 hex of the file's bytes: the version every decision records. */
  hash: string;
  timezone: string;
  businessHours: HoursWindow;
  trustedIssuers: TrustedIssuer[];
  /** The login page's ways in (`identity.login`). */
  login: LoginSettings;
  scopes: Map<string, ScopeDef>;
  resources: Map<string, ResourceDef>;
  bundles: Map<string, string[]>;
  groups: Map<string, GroupDef>;
  clients: Map<string, ClientDef>;
  rules: RuleDef[];
  defaultDecision: 'approve' | 'deny';
  exceptions: ExceptionDef[];
  webhooks: WebhookDef[];
  /** principal -> names of the groups it is a member of. */
  groupsOf: Map<string, string[]>;
}

export type IssueSeverity = 'error' | 'warning';

/** One finding of the loader: what is wrong, where (key path and 1-based line). */
export interface PolicyIssue {
  severity: IssueSeverity;
  /** Dotted key path, e.g. `groups.engineers.eligible[1]`. */
  path: string;
  line: number | null;
  column: number | null;
  message: string;
}
