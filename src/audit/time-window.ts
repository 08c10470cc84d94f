import { parseDuration } from '../policy/duration.js';
import { JitgateError } from '../util/errors.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An instant from a command-line flag, epoch ms: `now`, a duration meaning
 * that long ago (`90d`, `12h`, `1h30m`), a date (`2026-03-01`, midnight
 * UTC) or an RFC 3339 time with its offset. `usage` otherwise.
 */
export function parseInstant(text: string, flag: string, nowMs: number): number {
  const t = text.trim();
  if (t === 'now') return nowMs;
  const seconds = parseDuration(t);
  if (seconds !== null) return nowMs - seconds * 1000;
  if (DATE.test(t) || DATETIME.test(t)) {
    const ms = Date.parse(DATE.test(t) ? `${t}T00:00:00Z` : t);
    if (Number.isFinite(ms)) return ms;
  }
  throw new JitgateError(
    'usage',
    `${flag} must be a duration ago (90d, 12h), a date (2026-03-01) or an RFC 3339 time (2026-03-01T09:00:00Z), got "${text}"`,
  );
}
