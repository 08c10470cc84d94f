import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header every delivery carries. */
export const SIGNATURE_HEADER = 'x-jitgate-signature';

/** How far a signature's `t` may be from the receiver's clock by default, seconds. */
export const DEFAULT_SIGNATURE_TOLERANCE_S = 300;

/** Hex HMAC-SHA256 of `<t>.<body>` with the webhook's secret. */
export function signatureOf(secret: string, tS: number, body: string): string {
  return createHmac('sha256', secret).update(`${tS}.${body}`, 'utf8').digest('hex');
}

/**
 * The `X-Jitgate-Signature` value: `t=<unix seconds>,v1=<hex>`. Signing the
 * time with the body lets a receiver refuse an old delivery replayed later.
 */
export function signatureHeader(secret: string, tS: number, body: string): string {
  return `t=${tS},v1=${signatureOf(secret, tS, body)}`;
}

/**
 * Whether a received body carries a valid signature made within
 * `toleranceS` of `nowS`; compares in constant time. For receivers written
 * in TypeScript and for jitgate's own tests.
 */
export function verifySignature(
  header: string | undefined,
  body: string,
  secret: string,
  nowS: number,
  toleranceS = DEFAULT_SIGNATURE_TOLERANCE_S,
): boolean {
  if (!header) return false;
  const parts = new Map<string, string[]>();
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const k = item.slice(0, eq).trim();
    parts.set(k, [...(parts.get(k) ?? []), item.slice(eq + 1).trim()]);
  }
  const t = Number(parts.get('t')?.[0]);
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS) return false;
  const expected = Buffer.from(signatureOf(secret, t, body), 'hex');
  return (parts.get('v1') ?? []).some((v) => {
    const given = Buffer.from(v, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
