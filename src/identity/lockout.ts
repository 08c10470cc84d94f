/**
 * Account lockout with backoff, as pure arithmetic over the stored counter:
 * the fifth consecutive failure locks the account for 30 s, each further one
 * doubles that, up to 15 minutes. Only a successful login (or an operator
 * setting a new password) resets the counter.
 */

/** Consecutive failures that lock an account. */
export const LOCKOUT_THRESHOLD = 5;
/** The first lock, seconds. */
export const LOCKOUT_BASE_S = 30;
/** The longest lock, seconds. */
export const LOCKOUT_MAX_S = 900;

/** How long the account locks after its `failures`-th consecutive failure (0 while under the threshold). */
export function lockoutSeconds(failures: number): number {
  if (failures < LOCKOUT_THRESHOLD) return 0;
  // 2^5 · 30 s already passes the cap: bounding the exponent keeps it a small integer.
  const doublings = Math.min(failures - LOCKOUT_THRESHOLD, 6);
  return Math.min(LOCKOUT_BASE_S * 2 ** doublings, LOCKOUT_MAX_S);
}

/** Seconds until the account may try again, or 0 when it is not locked at `nowS`. */
export function lockedFor(lockedUntil: number | null, nowS: number): number {
  return lockedUntil !== null && lockedUntil > nowS ? lockedUntil - nowS : 0;
}
