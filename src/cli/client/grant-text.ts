/** Grants as people read them. Pure. */
import { formatInstant, formatRelative, instantMs } from './duration.js';
import { list, printable } from './terminal-text.js';
import type { GrantView } from './types.js';

export const GRANT_COLUMNS = [
  { header: 'id' },
  { header: 'principal' },
  { header: 'scopes', shrink: true },
  { header: 'resource', shrink: true },
  { header: 'status' },
  { header: 'starts' },
  { header: 'ends' },
  { header: 'notes', shrink: true },
];

/** `2026-03-02 09:30Z` plus where it is from now: `(in 25m)`. */
function when(iso: string, nowMs: number): string {
  const ms = instantMs(iso);
  if (ms === null) return printable(iso);
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}Z (${formatRelative(ms, nowMs)})`;
}

function notes(g: GrantView, withRevoker: boolean): string {
  const out: string[] = [];
  if (g.break_glass) out.push('break-glass');
  if (g.review === 'pending') out.push('review pending');
  if (withRevoker && g.status === 'revoked' && g.revoked_by) out.push(`revoked by ${printable(g.revoked_by)}`);
  return out.join(', ') || '-';
}

/** One row of `jitgate grants`. */
export function grantRow(g: GrantView, nowMs: number): string[] {
  return [g.id, g.principal, list(g.scopes), g.resource ?? '-', g.status, when(g.starts_at, nowMs), when(g.ends_at, nowMs), notes(g, true)];
}

/** A grant in a few lines, e.g. after revoking or releasing it. */
export function describeGrant(g: GrantView, nowMs: number): string {
  const lines: [string, string][] = [
    ['principal', printable(g.principal)],
    ['scopes', list(g.scopes)],
    ['resource', printable(g.resource ?? '-')],
    ['window', `${formatInstant(g.starts_at, nowMs)} until ${formatInstant(g.ends_at, nowMs)}`],
  ];
  if (g.request_id) lines.push(['request', printable(g.request_id)]);
  if (g.revoke_reason) lines.push(['revoked', `by ${printable(g.revoked_by ?? '?')}: ${printable(g.revoke_reason)}`]);
  const n = notes(g, false);
  if (n !== '-') lines.push(['notes', n]);
  const width = Math.max(...lines.map(([l]) => l.length));
  return `grant ${printable(g.id)}  ${printable(g.status)}\n${lines.map(([l, v]) => `  ${l.padEnd(width)}  ${v}`).join('\n')}\n`;
}
