/**
 * Durations in the policy file and the API: whole seconds (`900`) or a
 * compact string of units in descending order (`30m`, `8h`, `1h30m`, `2d`, `45s`).
 */

const COMPACT = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const DIGITS = /^\d+$/;

/**
 * Seconds for a duration, or null when the value is not one. Zero and
 * negative durations are not durations: every window jitgate bounds must
 * have room for something to happen.
 */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value > 0 ? value : null;
  }
  if (typeof value !== 'string' || value === '') return null;
  if (DIGITS.test(value)) return positive(Number(value));
  const m = COMPACT.exec(value);
  if (!m) return null;
  const [, d, h, min, s] = m;
  const total = Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3_600 + Number(min ?? 0) * 60 + Number(s ?? 0);
  return positive(total);
}

function positive(n: number): number | null {
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** The compact form of a number of seconds: 5400 → `1h30m`, 45 → `45s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '0s';
  let rest = Math.floor(seconds);
  let out = '';
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

export const DURATION_HINT = 'write whole seconds (900) or units d, h, m, s in that order (30m, 8h, 1h30m)';
