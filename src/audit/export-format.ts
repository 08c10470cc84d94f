/**
 * The export file formats. JSONL is the one that verifies on its own:
 *
 *   {"jitgate_audit_export": {version, issuer, database, exported_at, since, until, first_seq, keys}}
 *   {"checkpoint": {seq, hash, at, kid, jws}}      the one just before first_seq, when there is one
 *   {"seq": …, "id": …, "at": …, "type": …, "actor": …, "subject": …, "data": {…}, "prev_hash": …, "hash": …}
 *   {"checkpoint": {…}}                             after the event it vouches for
 *   …
 *   {"end": {events, last_seq, last_hash}}
 *
 * Events are plain objects, one per line, so `jq` and friends read them as
 * they are; the header carries the public keys of every signing key, so
 * `jitgate audit verify --file` needs nothing else. CSV holds the events
 * only, for spreadsheets.
 */
import type { Selectable } from 'kysely';
import type { AuditCheckpointTable, AuditEventTable } from '../store/schema.js';
import type { CheckpointJwk } from './public-keys.js';

export const EXPORT_VERSION = 1;

export type ExportFormat = 'jsonl' | 'csv';

export interface ExportHeader {
  version: number;
  issuer: string | null;
  database: string;
  /** RFC 3339. */
  exported_at: string;
  since: string | null;
  until: string | null;
  /** The first event's seq, or null for an empty export. */
  first_seq: number | null;
  keys: CheckpointJwk[];
}

export interface ExportEnd {
  events: number;
  last_seq: number | null;
  last_hash: string | null;
}

export function headerLine(h: ExportHeader): string {
  return `${JSON.stringify({ jitgate_audit_export: h })}\n`;
}

export function endLine(e: ExportEnd): string {
  return `${JSON.stringify({ end: e })}\n`;
}

export function checkpointLine(c: Selectable<AuditCheckpointTable>): string {
  return `${JSON.stringify({ checkpoint: { seq: Number(c.seq), hash: c.hash, at: c.at, kid: c.kid, jws: c.jws } })}\n`;
}

const q = JSON.stringify;

/** One event as a JSON line; the stored data text is JSON already and goes in as it is. */
export function eventLine(r: Selectable<AuditEventTable>): string {
  return (
    `{"seq":${Number(r.seq)},"id":${q(r.id)},"at":${q(r.at)},"type":${q(r.type)},"actor":${q(r.actor)},` +
    `"subject":${q(r.subject)},"data":${r.data},"prev_hash":${q(r.prev_hash)},"hash":${q(r.hash)}}\n`
  );
}

export const CSV_HEADER = 'seq,id,at,type,actor,subject,data,prev_hash,hash\n';

/** RFC 4180: quote a field holding a comma, quote, CR or LF, doubling its quotes. */
function csvField(v: string | null): string {
  if (v === null) return '';
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvLine(r: Selectable<AuditEventTable>): string {
  return `${[String(r.seq), r.id, r.at, r.type, r.actor, r.subject, r.data, r.prev_hash, r.hash].map(csvField).join(',')}\n`;
}

/** What one parsed line of a JSONL export is. */
export type ExportLine =
  | { kind: 'header'; header: ExportHeader }
  | { kind: 'checkpoint'; checkpoint: { seq: number; hash: string; at: string; kid: string; jws: string } }
  | { kind: 'end'; end: ExportEnd }
  | { kind: 'event'; event: Record<string, unknown> };

/** Classifies a parsed line by its one top-level member; events are the objects with a `seq`. */
export function classifyLine(v: unknown): ExportLine | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if ('jitgate_audit_export' in o) return { kind: 'header', header: o.jitgate_audit_export as ExportHeader };
  if ('checkpoint' in o) return { kind: 'checkpoint', checkpoint: o.checkpoint as Extract<ExportLine, { kind: 'checkpoint' }>['checkpoint'] };
  if ('end' in o) return { kind: 'end', end: o.end as ExportEnd };
  if ('seq' in o) return { kind: 'event', event: o };
  return null;
}
