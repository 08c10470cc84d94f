import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../http/context.js';
import type { AuthenticatedPerson } from '../identity/person.js';
import { LoginError, type LoginErrorCode } from '../identity/login-error.js';

/** What the page tells a person whose sign-in was refused, and with which status. */
export interface Refusal {
  status: number;
  message: string;
  retryAfterS?: number;
}

const MESSAGES: Record<LoginErrorCode, string> = {
  invalid_credentials: 'Unknown username or wrong password.',
  otp_required: 'Enter the one-time code from your authenticator app.',
  otp_invalid: 'The one-time code is wrong or has expired.',
  otp_replayed: 'That one-time code was used already. Wait for the next one.',
  mfa_not_enrolled: 'This step needs an authenticator app, and none is enrolled for your account. Ask an administrator to enroll one.',
  locked: 'Too many failed attempts. The account is locked for a while.',
};

/** Failures that count against the address: guessing, not a missing field. */
const COUNTED: ReadonlySet<LoginErrorCode> = new Set(['invalid_credentials', 'otp_invalid', 'otp_replayed']);

/**
 * Signs a local user in with the posted username, password and code. The
 * users service locks accounts; on top, failures are counted per address
 * (`ctx.authFailures.address`), so one address cannot spray passwords over
 * many accounts. Returns the person or what to show.
 */
export async function localLogin(
  ctx: ServerContext,
  req: FastifyRequest,
  form: { username: string; password: string; otp: string | undefined },
  requireOtp: boolean,
): Promise<AuthenticatedPerson | Refusal> {
  const nowMs = ctx.clock.nowMs();
  const wait = ctx.authFailures.address.blockedFor(req.ip, nowMs);
  if (wait > 0) {
    return { status: 429, message: 'Too many failed sign-ins from your network. Try again later.', retryAfterS: Math.ceil(wait / 1000) };
  }
  if (form.username === '' || form.password === '') return { status: 400, message: 'Enter your username and password.' };
  try {
    return await ctx.users.login({ username: form.username, password: form.password, otp: form.otp, address: req.ip }, { requireOtp });
  } catch (err) {
    if (!(err instanceof LoginError)) throw err;
    if (COUNTED.has(err.code)) ctx.authFailures.address.recordFailure(req.ip, nowMs);
    if (err.code === 'locked') {
      const after = err.retryAfterS ?? 60;
      return { status: 429, message: `${MESSAGES.locked} Try again in ${formatWait(after)}.`, retryAfterS: after };
    }
    return { status: 401, message: MESSAGES[err.code] };
  }
}

export function isRefusal(v: AuthenticatedPerson | Refusal): v is Refusal {
  return 'status' in v;
}

/** Sets Retry-After when the refusal has one. */
export function applyRetryAfter(reply: FastifyReply, refusal: Refusal): void {
  if (refusal.retryAfterS !== undefined) reply.header('retry-after', String(Math.max(1, refusal.retryAfterS)));
}

function formatWait(s: number): string {
  return s < 120 ? `${s} seconds` : `${Math.ceil(s / 60)} minutes`;
}
