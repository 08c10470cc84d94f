/** Renders a scope report for people (table, markdown) and spreadsheets (CSV). Pure. */
import type { ScopeHolding } from './scope-report.js';

export type ReportFormat = 'table' | 'csv' | 'markdown';

/** `1h30m`, `45s`, `2d3h`: the largest two units. */
export function formatHeld(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const units: [string, number][] = [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]];
  const parts: string[] = [];
  let rest = seconds;
  for (const [u, size] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${u}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join('');
}

function approvedBy(h: ScopeHolding): string {
  if (h.approval === 'break_glass') return h.approved_by.length ? `break-glass; ${h.approved_by.join(', ')}` : 'break-glass';
  if (h.approval === 'policy') return h.rule ? `policy (${h.rule})` : 'policy';
  return h.approved_by.join(', ');
}

function endText(h: ScopeHolding): string {
  if (h.end === 'revoked') return `revoked${h.revoked_by ? ` by ${h.revoked_by}` : ''}${h.revoke_reason ? `: ${h.revoke_reason}` : ''}`;
  return h.end;
}

const HEADER = ['PRINCIPAL', 'FROM', 'TO', 'HELD', 'END', 'APPROVED BY', 'REASON', 'TICKET', 'GRANT'];

function cells(h: ScopeHolding): string[] {
  return [h.principal, h.started_at, h.ended_at ?? '(active)', formatHeld(h.held_s), endText(h), approvedBy(h), h.reason, h.ticket ?? '', h.grant_id];
}

/** Text for `format`; `scope` and the window head the table and markdown forms. */
export function renderReport(
  holdings: readonly ScopeHolding[],
  format: ReportFormat,
  meta: { scope: string; since: string; until: string },
): string {
  if (format === 'csv') {
    const cols = ['principal', 'started_at', 'ended_at', 'held_s', 'end', 'approval', 'approved_by', 'rule', 'reason', 'ticket', 'revoked_by', 'revoke_reason', 'resource', 'scopes', 'grant_id', 'request_id'];
    const field = (v: string | number | null) => {
      const s = v === null ? '' : String(v);
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const rows = holdings.map((h) =>
      [h.principal, h.started_at, h.ended_at, h.held_s, h.end, h.approval, h.approved_by.join(' '), h.rule, h.reason, h.ticket, h.revoked_by, h.revoke_reason, h.resource, h.scopes.join(' '), h.grant_id, h.request_id]
        .map(field)
        .join(','),
    );
    return `${[cols.join(','), ...rows].join('\n')}\n`;
  }
  const title = `${meta.scope}: ${holdings.length} holding${holdings.length === 1 ? '' : 's'} from ${meta.since} to ${meta.until}`;
  if (format === 'markdown') {
    const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
    const lines = [`## ${esc(title)}`, '', `| ${HEADER.map((h) => h.toLowerCase()).join(' | ')} |`, `|${HEADER.map(() => ' --- ').join('|')}|`];
    for (const h of holdings) lines.push(`| ${cells(h).map(esc).join(' | ')} |`);
    return `${lines.join('\n')}\n`;
  }
  const rows = holdings.map((h) => cells(h).map((c) => c.replace(/\s+/g, ' ')));
  const widths = HEADER.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return `${title}\n\n${[line(HEADER), ...rows.map(line)].join('\n')}\n`;
}
