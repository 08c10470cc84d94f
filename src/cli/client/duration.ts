/**
 * Durations and instants as the CLI reads and shows them. Input uses the
 * server's own grammar (src/policy/duration.ts), so what the CLI accepts the
 * server accepts too.
 */
import { DURATION_HINT, formatDuration, parseDuration } from '../../policy/duration.js';
import { TIMESTAMP_HINT, parseTimestamp } from '../../access/timestamp.js';
import { usage } from './failure.js';

export { formatDuration };

/** Seconds of a `--for`-style flag: `1800`, `30m`, `1h30m`. */
export function parseDurationFlag(text: string, flag: string): number {
  const seconds = parseDuration(text.trim());
  if (seconds === null) throw usage(`${flag} "${text}" is not a duration: ${DURATION_HINT}`);
  return seconds;
}

/** The text of a `--starts-at` flag, checked to be an RFC 3339 timestamp with an offset. */
export function checkTimestampFlag(text: string, flag: string): string {
  const trimmed = text.trim();
  if (parseTimestamp(trimmed) === null) throw usage(`${flag} "${text}" is not a timestamp: ${TIMESTAMP_HINT}`);
  return trimmed;
}

/** Epoch milliseconds of an ISO timestamp from the server, or null when it is not one. */
export function instantMs(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/** A coarse age for tables: `42s`, `17m`, `5h`, `3d`. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** A stopwatch reading: `0:42`, `12:03`, `1:02:03`. */
export function formatClock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/**
 * A span as people say it, to two units at most and rounded to the smaller:
 * `42s`, `15m` (for 14m59s), `2h5m`, `3d4h`.
 */
export function formatSpan(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86_400) {
    const m = Math.round(s / 60);
    return `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}`;
  }
  const h = Math.round(s / 3600);
  return `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ''}`;
}

/** `in 25m`, `3m ago`, or `now`. */
export function formatRelative(targetMs: number, nowMs: number): string {
  const diff = Math.round((targetMs - nowMs) / 1000);
  if (diff === 0) return 'now';
  const d = formatSpan(Math.abs(diff));
  return diff > 0 ? `in ${d}` : `${d} ago`;
}

/** `2026-03-02T09:30:00Z (in 25m)`, or the text as it came when it is not a timestamp. */
export function formatInstant(iso: string | null | undefined, nowMs: number): string {
  const ms = instantMs(iso);
  if (ms === null) return iso ?? '-';
  return `${new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')} (${formatRelative(ms, nowMs)})`;
}
