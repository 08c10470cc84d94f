/**
 * TOTP (RFC 6238) as authenticator apps speak it: SHA-1, 6 digits, 30 s
 * steps, a code accepted one step early or late for clock drift. Which step
 * a code belongs to is what replay protection keys on: a step at or before
 * the last one accepted for the user is refused, so a code works once.
 */
import { timingSafeEqual } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

export const TOTP_ALGORITHM = 'SHA1';
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_S = 30;
/** Steps accepted either side of now. */
export const TOTP_WINDOW = 1;
/** 160 bits, the HMAC-SHA-1 block RFC 4226 recommends. */
const SECRET_BYTES = 20;

const CODE = /^\d{6}$/;

/** A fresh random TOTP secret, raw bytes. */
export function generateTotpSecret(): Buffer {
  return Buffer.from(new Secret({ size: SECRET_BYTES }).bytes);
}

/** The secret as authenticator apps take it (RFC 4648 base32, no padding). */
export function totpSecretBase32(secret: Uint8Array): string {
  return new Secret({ buffer: copyBuffer(secret) }).base32;
}

/** The `otpauth://totp/…` URI an authenticator app scans. */
export function totpUri(secret: Uint8Array, issuer: string, account: string): string {
  return totpFor(secret, issuer, account).toString();
}

/** The time step of `nowMs`. */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_S);
}

/** The code for the step of `nowMs` (tests and tools). */
export function totpCode(secret: Uint8Array, nowMs: number): string {
  return totpFor(secret).generate({ timestamp: nowMs });
}

/**
 * The step `code` belongs to within the window around `nowMs`, or null when
 * it matches none. Where a code matches more than one step (a one-in-a-million
 * coincidence), the latest wins, so a fresh code is never mistaken for a
 * replayed one. Every step of the window is computed and compared in constant
 * time, matched or not.
 */
export function matchTotpStep(secret: Uint8Array, code: string, nowMs: number): number | null {
  const given = Buffer.from(code, 'utf8');
  const wellFormed = CODE.test(code);
  const totp = totpFor(secret);
  const now = totpStep(nowMs);
  let matched: number | null = null;
  for (let step = now - TOTP_WINDOW; step <= now + TOTP_WINDOW; step++) {
    const expected = Buffer.from(totp.generate({ timestamp: step * TOTP_PERIOD_S * 1000 }), 'utf8');
    if (wellFormed && timingSafeEqual(given, expected)) matched = step;
  }
  return matched;
}

function totpFor(secret: Uint8Array, issuer = '', label = 'jitgate'): TOTP {
  return new TOTP({
    issuer,
    label,
    secret: new Secret({ buffer: copyBuffer(secret) }),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
  });
}

/** otpauth wants an ArrayBuffer of exactly the secret's bytes, not a view into a larger pool. */
function copyBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return copy;
}
