/**
 * What the gateway answers when it does not forward: RFC 9457 problem+json
 * with the same stable `type`s as the REST API, and RFC 6750 challenges on
 * 401 and 403. The 403 for a missing scope says how to get it, so a person
 * or an agent can go from the refusal straight to an access request.
 */
import type { ServerResponse } from 'node:http';
import { Problem } from '../http/problem.js';
import type { Policy } from '../policy/types.js';

const REALM = 'jitgate';

/** Sends a problem and ends the response. `close` also ends the connection (an unread request body). */
export function sendProblem(res: ServerResponse, problem: Problem, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(problem.toJSON());
  res.writeHead(problem.status, {
    ...problem.headers,
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

/** 401 without an error code: no token was sent (RFC 6750 §3.1). */
export function missingToken(): Problem {
  return new Problem(401, 'unauthorized', 'send an access token for this resource: Authorization: Bearer <token>', {
    headers: { 'www-authenticate': `Bearer realm="${REALM}"` },
  });
}

/** 401 `invalid_token`: expired, revoked, for another audience, or not a jitgate token. */
export function invalidToken(reason: string): Problem {
  return new Problem(401, 'invalid_token', reason, {
    headers: { 'www-authenticate': `Bearer realm="${REALM}", error="invalid_token", error_description="${quoted(reason)}"` },
  });
}

export interface ScopeHintInput {
  policy: Policy;
  /** The public issuer URL: where callers reach the server. */
  issuer: string;
  audience: string;
  method: string;
  path: string;
  required: readonly string[];
  missing: readonly string[];
}

/**
 * 403 `insufficient_scope` with what the route needs, what the token lacks,
 * and the request and commands that would get it.
 */
export function insufficientScope(input: ScopeHintInput): Problem {
  const { policy, issuer, audience, missing } = input;
  const duration = suggestedDuration(policy, missing);
  const ticketPatterns = missing.map((s) => policy.scopes.get(s)?.ticketPattern).filter((p): p is string => !!p);
  const body: Record<string, unknown> = { scopes: missing, resource: audience, duration, reason: '…' };
  if (ticketPatterns.length) body.ticket = '…';
  const scopeList = missing.join(' ');
  const command =
    `jitgate request ${scopeList} --resource ${audience} --for ${duration} --reason "…"` +
    (ticketPatterns.length ? ' --ticket …' : '') +
    ' --wait';
  return new Problem(403, 'insufficient_scope', `${input.method} ${input.path} needs ${input.required.join(' ')}; the token lacks ${scopeList}`, {
    headers: {
      'www-authenticate': `Bearer realm="${REALM}", error="insufficient_scope", scope="${quoted(input.required.join(' '))}", error_description="the token lacks ${quoted(scopeList)}"`,
    },
    extra: {
      resource: audience,
      required_scopes: input.required,
      missing_scopes: missing,
      request: { method: 'POST', url: `${issuer}/api/v1/requests`, body },
      ...(ticketPatterns.length ? { ticket_pattern: ticketPatterns } : {}),
      command,
      then: {
        command: `jitgate token --scope ${scopeList} --resource ${audience}`,
        token_exchange: {
          url: `${issuer}/token`,
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          scope: scopeList,
          resource: audience,
        },
      },
    },
  });
}

/** 30 minutes, or less when a scope's `max_ttl` is shorter. */
function suggestedDuration(policy: Policy, scopes: readonly string[]): string {
  let s = 1800;
  for (const name of scopes) {
    const max = policy.scopes.get(name)?.maxTtlS;
    if (max != null && max < s) s = max;
  }
  return s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}

/** A quoted-string parameter (RFC 9110 §5.6.4) of visible ASCII: anything else could break the header. */
function quoted(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => (c === '\u2019' ? "'" : '?')).replace(/[\\"]/g, '\\$&');
}

export const problems = {
  feedStale: (ageMs: number | null) =>
    new Problem(
      503,
      'revocation_feed_stale',
      ageMs === null
        ? 'the gateway has not caught up with the revocation feed yet; it refuses requests until it has'
        : `the revocation feed was last heard from ${Math.round(ageMs)} ms ago; the gateway refuses requests until it is back`,
      { headers: { 'retry-after': '1' } },
    ),
  jwksUnavailable: () => new Problem(503, 'jwks_unavailable', 'the server’s signing keys could not be fetched; try again shortly', { headers: { 'retry-after': '1' } }),
  unknownResource: (host: string | undefined) =>
    new Problem(404, 'resource_unknown', `this gateway serves no resource for Host ${JSON.stringify(host ?? '')}`),
  badPath: (reason: string) => new Problem(400, 'path_invalid', reason),
  badRequest: (reason: string) => new Problem(400, 'request_invalid', reason),
  noRoute: (method: string, path: string) => new Problem(404, 'route_not_found', `no route of this resource covers ${method} ${path}`),
  methodNotAllowed: (method: string, path: string, allow: string[]) =>
    new Problem(405, 'method_not_allowed', `${path} does not take ${method}; it takes ${allow.join(', ')}`, { headers: { allow: allow.join(', ') } }),
  upstreamUnreachable: () => new Problem(502, 'upstream_unreachable', 'the upstream API could not be reached or did not answer properly'),
  upstreamTimeout: () => new Problem(504, 'upstream_timeout', 'the upstream API did not answer in time'),
};
