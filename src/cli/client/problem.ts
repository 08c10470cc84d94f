/**
 * What a refusal from the server means for the person at the terminal:
 * RFC 9457 problem details from the REST API, RFC 6749 errors from the token
 * endpoint, and RFC 6750/9470 challenges in `WWW-Authenticate`. Pure: takes
 * the answer, returns the lines to print.
 */
import { formatDuration } from '../../policy/duration.js';
import { CliFailure } from './failure.js';
import { list, printable } from './terminal-text.js';
import type { ProblemDetails } from './types.js';
import { bearerChallenge } from './www-authenticate.js';

/** An HTTP answer as read off the wire, body as text. */
export interface HttpAnswer {
  status: number;
  statusText?: string;
  headers: Headers;
  text: string;
}

/** Members every problem has; anything else is an extra worth showing. */
const STANDARD = new Set(['type', 'title', 'status', 'detail', 'instance', 'code']);

/** How an extra member reads to a person; members not listed print as `name: value`. */
const EXTRA_LABELS: Record<string, (v: unknown) => string> = {
  eligible: (v) => `you may request: ${asList(v)}`,
  eligibleBundles: (v) => `bundles you may request: ${asList(v)}`,
  eligible_bundles: (v) => `bundles you may request: ${asList(v)}`,
  candidates: (v) => `resources that accept these scopes: ${asList(v)}`,
  scopes: (v) => `scopes: ${asList(v)}`,
  maxS: (v) => `longest allowed: ${typeof v === 'number' ? formatDuration(v) : printable(v)}`,
  max_s: (v) => `longest allowed: ${typeof v === 'number' ? formatDuration(v) : printable(v)}`,
  field: (v) => `field: ${printable(v)}`,
};

function asList(v: unknown): string {
  return Array.isArray(v) ? list(v, 'nothing') : printable(typeof v === 'object' ? JSON.stringify(v) : v);
}

/**
 * `<title>: <detail>` then one indented line per extra member, e.g. the
 * scopes a `not_eligible` requester may ask for instead.
 */
export function problemLines(problem: ProblemDetails, status?: number): string[] {
  const title = printable(problem.title ?? (status ? `HTTP ${status}` : 'refused'));
  const head = problem.detail ? `${title}: ${printable(problem.detail)}` : title;
  const extras: string[] = [];
  for (const [key, value] of Object.entries(problem)) {
    if (STANDARD.has(key) || value === null || value === undefined) continue;
    const label = EXTRA_LABELS[key];
    extras.push(`  ${label ? label(value) : `${printable(key)}: ${asList(value)}`}`);
  }
  return [head, ...extras];
}

/** RFC 6749 §5.2 error body of the token and revocation endpoints. */
export interface OAuthErrorBody {
  error: string;
  error_description?: string;
  [member: string]: unknown;
}

export function isOAuthError(body: unknown): body is OAuthErrorBody {
  return typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string';
}

/** `<error>: <description>` plus extras (the `scopes` an `invalid_scope` names). */
export function oauthErrorLines(body: OAuthErrorBody): string[] {
  const { error, error_description: description, error_uri: _uri, ...extra } = body;
  return problemLines({ title: error, detail: description, ...extra });
}

/**
 * The failure a non-2xx answer stands for. A 401 challenge decides first:
 * a token whose authentication is too weak or too old for the scope
 * (RFC 9470) needs a fresh MFA login, any other 401 a new login.
 */
export function failureFromAnswer(server: string, answer: HttpAnswer): CliFailure {
  const body = parseJson(answer.text);
  const challenge = bearerChallenge(answer.headers.get('www-authenticate'));
  if (challenge?.error === 'insufficient_user_authentication') {
    return mfaFailure(server, challenge, body);
  }
  if (answer.status === 401) {
    const why = problemDetail(body) ?? challenge?.error_description;
    return new CliFailure('login_rejected', [
      `the server no longer accepts your login${why ? `: ${printable(why)}` : ' (it expired or was revoked)'}`,
      `  run: jitgate login --server ${server}`,
    ]);
  }
  if (isProblem(body)) return new CliFailure(problemCode(body), problemLines(body, answer.status));
  if (isOAuthError(body)) return new CliFailure(`oauth_${body.error}`, oauthErrorLines(body));
  const snippet = answer.text.trim().split('\n')[0]?.slice(0, 200);
  return new CliFailure('server_error', [
    `the server at ${server} answered HTTP ${answer.status}${answer.statusText ? ` ${printable(answer.statusText)}` : ''}`,
    ...(snippet && !snippet.startsWith('<') ? [`  ${printable(snippet)}`] : []),
  ]);
}

function mfaFailure(server: string, challenge: Record<string, string>, body: unknown): CliFailure {
  const scopes = isProblem(body) && Array.isArray(body.scopes) ? list(body.scopes) : null;
  const why = problemDetail(body) ?? challenge.error_description;
  const asks: string[] = [];
  if (challenge.acr_values) asks.push(`acr_values=${printable(challenge.acr_values)}`);
  if (challenge.max_age) {
    const s = Number(challenge.max_age);
    asks.push(`max_age=${printable(challenge.max_age)}${Number.isSafeInteger(s) && s > 0 ? ` (signed in within the last ${formatDuration(s)})` : ''}`);
  }
  return new CliFailure('mfa_required', [
    `${scopes ?? 'this'} needs a fresh MFA login${why ? `: ${printable(why)}` : ''}`,
    ...(asks.length ? [`  the server asks for ${asks.join(', ')}`] : []),
    `  log in again with MFA: jitgate login --step-up --server ${server}`,
    `  (or, with a fresh MFA ID token from your identity provider: jitgate login --server ${server} --id-token-file FILE)`,
  ]);
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function isProblem(body: unknown): body is ProblemDetails {
  return typeof body === 'object' && body !== null && ('title' in body || 'detail' in body || 'type' in body);
}

function problemDetail(body: unknown): string | undefined {
  if (isProblem(body) && typeof body.detail === 'string') return body.detail;
  if (isOAuthError(body)) return body.error_description;
  return undefined;
}

/** The stable code of a problem: its `code` member, else the tail of its `type` URN. */
function problemCode(p: ProblemDetails): string {
  if (typeof p.code === 'string') return p.code;
  const tail = typeof p.type === 'string' ? p.type.split(/[:/]/).pop() : undefined;
  return tail && tail !== 'blank' ? tail : 'refused';
}
