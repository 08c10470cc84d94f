/**
 * Instants in the API: RFC 3339 timestamps with an explicit offset
 * (`2026-03-02T09:00:00Z`, `2026-03-02T10:00:00+01:00`). A timestamp without
 * an offset is refused: whose local time it meant would be a guess.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

export const TIMESTAMP_HINT = 'write an RFC 3339 timestamp with an offset, such as 2026-03-02T09:00:00Z';

/** Epoch seconds (fractions dropped) of an RFC 3339 timestamp, or null when the text is not one or names no real instant. */
export function parseTimestamp(text: string): number | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offH = Number(m[10] ?? 0);
  const offM = Number(m[11] ?? 0);
  if (h > 23 || mi > 59 || s > 59 || offH > 23 || offM > 59) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC rolls 30 February over into March; a timestamp naming it is wrong, not a synonym.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  const sign = m[9] === '-' ? -1 : 1;
  return ms / 1000 - sign * (offH * 3600 + offM * 60);
}

/** The RFC 3339 form (UTC, whole seconds) of epoch seconds. */
export function formatTimestamp(epochS: number): string {
  return new Date(epochS * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
