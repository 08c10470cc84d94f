/** Access requests as people read them: a detail block, a table row, a live status. Pure. */
import { formatAge, formatDuration, formatInstant, instantMs } from './duration.js';
import { list, printable } from './terminal-text.js';
import type { AccessRequestView, StageView } from './types.js';

/** The stage being decided: the active one, or the first not yet approved. */
function currentStage(req: AccessRequestView): { stage: StageView; index: number } | null {
  const stages = req.stages ?? [];
  let index = stages.findIndex((s) => s.status === 'active');
  if (index < 0) index = stages.findIndex((s) => s.status !== 'approved');
  const stage = stages[index];
  return stage ? { stage, index } : null;
}

/** Who may decide a stage now: its approvers, plus its escalation groups once escalated. */
function deciders(stage: StageView): string {
  const groups = list(stage.approvers);
  return stage.escalated && stage.escalate_to?.length ? `${groups}, escalated to ${list(stage.escalate_to)}` : groups;
}

/** `stage 1/2: sre-leads (0/1)` for a pending request, `-` for any other. */
export function waitingOn(req: AccessRequestView): string {
  if (req.status !== 'pending') return '-';
  const cur = currentStage(req);
  if (!cur) return 'pending';
  return `stage ${cur.index + 1}/${req.stages.length}: ${deciders(cur.stage)} (${cur.stage.approvals.length}/${cur.stage.count})`;
}

/** The live status while waiting: `waiting for approval: stage 1/2 (sre-leads)`. */
export function waitStatus(req: AccessRequestView): string {
  const cur = currentStage(req);
  if (req.status !== 'pending') return req.status;
  if (!cur) return 'waiting for a decision';
  return `waiting for approval: stage ${cur.index + 1}/${req.stages.length} (${deciders(cur.stage)})`;
}

/** What became of a request that is no longer pending, in one line. */
export function outcomeLine(req: AccessRequestView, nowMs: number): string {
  switch (req.status) {
    case 'approved': {
      const g = req.grant;
      if (!g) return 'approved';
      const window = `${formatInstant(g.starts_at, nowMs)} until ${formatInstant(g.ends_at, nowMs)}`;
      return `approved: grant ${printable(g.id)} (${printable(g.status)}) for ${list(req.scopes)} from ${window}`;
    }
    case 'denied': {
      const stageIndex = (req.stages ?? []).findIndex((s) => s.status === 'denied');
      if (stageIndex >= 0) {
        const stage = req.stages[stageIndex]!;
        const denial = (req as { denial?: { by?: string; reason?: string } }).denial;
        const who = denial?.by ? ` by ${printable(denial.by)}` : ` by ${deciders(stage)}`;
        return `denied at stage ${stageIndex + 1}/${req.stages.length}${who}${denial?.reason ? `: ${printable(denial.reason)}` : ''}`;
      }
      return `denied by policy: ${printable(req.decision?.message ?? 'no rule allowed it')}`;
    }
    case 'expired':
      return `expired: no decision was made in time${req.expires_at ? ` (it expired ${formatInstant(req.expires_at, nowMs)})` : ''}`;
    case 'cancelled':
      return 'cancelled by the requester';
    default:
      return `pending: ${waitingOn(req)}`;
  }
}

/** One row of `jitgate requests`: id, requester, scopes, resource, status, age, waiting on. */
export function requestRow(req: AccessRequestView, nowMs: number): string[] {
  const created = instantMs(req.created_at);
  return [
    req.id,
    req.requester,
    list(req.scopes),
    req.resource ?? '-',
    req.status,
    created === null ? '-' : formatAge((nowMs - created) / 1000),
    waitingOn(req),
  ];
}

export const REQUEST_COLUMNS = [
  { header: 'id' },
  { header: 'requester' },
  { header: 'scopes', shrink: true },
  { header: 'resource', shrink: true },
  { header: 'status' },
  { header: 'age' },
  { header: 'waiting on', shrink: true },
];

/** The whole request, a `label  value` line each, stages and approvals included. */
export function describeRequest(req: AccessRequestView, nowMs: number): string {
  const lines: [string, string][] = [];
  const add = (label: string, value: string) => lines.push([label, value]);
  add('requester', printable(req.requester));
  add('scopes', `${list(req.scopes)}${req.bundle ? ` (bundle ${printable(req.bundle)})` : ''}`);
  add('resource', printable(req.resource ?? '-'));
  add('duration', formatDuration(req.duration_s));
  if (req.starts_at) add('starts', formatInstant(req.starts_at, nowMs));
  add('reason', printable(req.reason));
  if (req.ticket) add('ticket', printable(req.ticket));
  if (req.decision) add('decision', printable(req.decision.message || `${req.decision.outcome} (rule ${req.decision.rule ?? 'default'})`));
  (req.stages ?? []).forEach((s, i) => {
    add(`stage ${i + 1}/${req.stages.length}`, `${printable(s.status)}: ${deciders(s)}, ${s.approvals.length} of ${s.count} approval${s.count === 1 ? '' : 's'}`);
    for (const a of s.approvals) {
      add('', `approved by ${printable(a.by)} ${formatInstant(a.at, nowMs)}${a.comment ? `: "${printable(a.comment)}"` : ''}`);
    }
  });
  if (req.grant) {
    add('grant', `${printable(req.grant.id)} ${printable(req.grant.status)}, ${formatInstant(req.grant.starts_at, nowMs)} until ${formatInstant(req.grant.ends_at, nowMs)}`);
  }
  add('created', formatInstant(req.created_at, nowMs));
  if (req.status === 'pending' && req.expires_at) add('expires', `${formatInstant(req.expires_at, nowMs)} unless decided`);
  const width = Math.max(...lines.map(([l]) => l.length));
  return `request ${printable(req.id)}  ${printable(req.status)}\n${lines.map(([l, v]) => `  ${l.padEnd(width)}  ${v}`).join('\n')}\n`;
}
