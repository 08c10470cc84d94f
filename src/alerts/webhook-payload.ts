import type { AlertView } from './alert.js';
import type { PendingNotice } from './pending-notice.js';

/** What a webhook delivers: an alert, or a notice to approvers. */
export type Deliverable = { kind: 'alert'; alert: AlertView } | { kind: 'notification'; notice: PendingNotice };

/**
 * The exact body a webhook receives. `json`: the alert (or notice) with a
 * `kind` member saying which; `slack`: a message for a Slack incoming
 * webhook (`text` for notifications, `blocks` for the channel).
 */
export function webhookBody(d: Deliverable, format: 'json' | 'slack'): string {
  return JSON.stringify(format === 'slack' ? slackMessage(d) : jsonBody(d));
}

function jsonBody(d: Deliverable): Record<string, unknown> {
  if (d.kind === 'alert') return { kind: 'alert', ...d.alert };
  const { eventSeq, ...notice } = d.notice;
  return { kind: 'notification', ...notice, event_seq: eventSeq };
}

interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

function slackMessage(d: Deliverable): SlackMessage {
  if (d.kind === 'alert') {
    const a = d.alert;
    const facts = [`*severity* ${a.severity}`, `*at* ${a.at}`, ...(a.principal ? [`*principal* ${esc(a.principal)}`] : []), `*alert* ${a.id}`];
    return {
      text: `jitgate alert ${a.type} (${a.severity}): ${esc(a.summary)}`,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `:rotating_light: *${a.type}* — ${esc(a.summary)}` } },
        { type: 'context', elements: facts.map((text) => ({ type: 'mrkdwn', text })) },
      ],
    };
  }
  const n = d.notice;
  const r = n.request;
  const what = `${r.requester} asks for ${r.scopes.join(', ')} on ${r.resource} for ${Math.round(r.duration_s / 60)} min`;
  const lines = [
    `*${esc(r.requester)}* asks for *${esc(r.scopes.join(', '))}* on ${esc(r.resource)} for ${Math.round(r.duration_s / 60)} min`,
    `>${esc(r.reason)}${r.ticket ? ` (${esc(r.ticket)})` : ''}`,
    `<${r.link}|Open request ${esc(r.id)}>`,
  ];
  return {
    text: `jitgate: approval needed (${n.reason.replace('_', ' ')}): ${esc(what)}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: `*approvers* ${esc(n.approvers.join(', '))}` },
          { type: 'mrkdwn', text: `*stage* ${n.stage + 1}` },
          { type: 'mrkdwn', text: `*expires* ${r.expires_at}` },
        ],
      },
    ],
  };
}

/** Slack mrkdwn treats these three as control characters. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
