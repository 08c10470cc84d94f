import { JitgateError } from '../util/errors.js';

/**
 * Why a local user's login was refused. Stable: the login page and the
 * device page map each to what the person sees.
 *
 * - `invalid_credentials`: unknown user or wrong password (deliberately the same).
 * - `otp_required`: the password was right; the user has TOTP and sent no code.
 * - `otp_invalid`: the TOTP code matched no step of the window.
 * - `otp_replayed`: the code belongs to a step already used.
 * - `mfa_not_enrolled`: MFA was required and the user has no TOTP enrolled.
 * - `locked`: too many consecutive failures; `retryAfterS` says how long.
 */
export type LoginErrorCode =
  | 'invalid_credentials'
  | 'otp_required'
  | 'otp_invalid'
  | 'otp_replayed'
  | 'mfa_not_enrolled'
  | 'locked';

const MESSAGES: Record<LoginErrorCode, string> = {
  invalid_credentials: 'unknown user or wrong password',
  otp_required: 'enter the code from your authenticator app',
  otp_invalid: 'the authenticator code is wrong or expired',
  otp_replayed: 'that authenticator code was used already; wait for the next one',
  mfa_not_enrolled: 'this sign-in needs an authenticator app, and none is enrolled for the user',
  locked: 'too many failed attempts; the account is locked for a while',
};

/** A refused local login. */
export class LoginError extends JitgateError {
  declare readonly code: LoginErrorCode;
  /** For `locked`: whole seconds until the next attempt is allowed. */
  readonly retryAfterS: number | null;

  constructor(code: LoginErrorCode, retryAfterS: number | null = null) {
    super(code, code === 'locked' && retryAfterS !== null ? `${MESSAGES.locked}; try again in ${retryAfterS} s` : MESSAGES[code]);
    this.name = 'LoginError';
    this.retryAfterS = retryAfterS;
  }
}
