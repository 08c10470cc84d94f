/**
 * Verifying a JSONL export on its own: the chain, the checkpoints it
 * carries, against the public keys in its header (or keys the auditor
 * trusts instead). Two passes over the file, one for the header and the
 * checkpoints, one for the events, each line by line in constant memory.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { JitgateError } from '../util/errors.js';
import { ChainVerifier, type ChainEvent, type StoredCheckpoint, type VerifyProblem } from './chain-verifier.js';
import { classifyLine, EXPORT_VERSION, type ExportEnd, type ExportHeader } from './export-format.js';
import { publicKeySet, type PublicKeySet } from './public-keys.js';
import type { VerifyProgress, VerifyRun } from './verify-store.js';

export interface VerifyFileOptions {
  /** Trusted keys instead of the ones the file carries. */
  keys?: PublicKeySet;
  onProgress?: (p: VerifyProgress) => void;
  progressEveryMs?: number;
}

async function* lines(path: string): AsyncGenerator<{ n: number; text: string }> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const text of rl) {
    n++;
    if (text.trim() !== '') yield { n, text };
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isStrOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** An event line's members with their types checked, or null. */
function chainEvent(o: Record<string, unknown>): ChainEvent | null {
  if (!Number.isSafeInteger(o.seq) || !isStr(o.id) || !isStr(o.at) || !isStr(o.type)) return null;
  if (!isStrOrNull(o.actor) || !isStrOrNull(o.subject) || !isStr(o.prev_hash) || !isStr(o.hash)) return null;
  if (o.data === null || typeof o.data !== 'object' || Array.isArray(o.data)) return null;
  return {
    seq: o.seq as number,
    id: o.id,
    at: o.at,
    type: o.type,
    actor: o.actor,
    subject: o.subject,
    data: o.data as Record<string, unknown>,
    prev_hash: o.prev_hash,
    hash: o.hash,
  };
}

/** Verifies an export written by `jitgate audit export --format jsonl` (or by a prune). */
export async function verifyExportFile(path: string, opts: VerifyFileOptions = {}): Promise<VerifyRun> {
  const started = performance.now();
  let header: ExportHeader | null = null;
  const checkpoints: StoredCheckpoint[] = [];
  try {
    for await (const { n, text } of lines(path)) {
      // Only the few non-event lines are parsed in this pass.
      if (!text.startsWith('{"jitgate_audit_export"') && !text.startsWith('{"checkpoint"')) continue;
      const line = classifyLine(parse(text));
      if (line?.kind === 'header') {
        if (n !== 1 || header) throw new JitgateError('audit_export_invalid', `${path}:${n}: a second export header`);
        header = line.header;
      } else if (line?.kind === 'checkpoint') {
        const c = line.checkpoint;
        if (Number.isSafeInteger(c?.seq) && isStr(c?.hash) && isStr(c?.jws)) checkpoints.push({ seq: c.seq, hash: c.hash, jws: c.jws });
      }
    }
  } catch (err) {
    if (err instanceof JitgateError) throw err;
    throw new JitgateError('audit_export_unreadable', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!header) {
    throw new JitgateError('audit_export_invalid', `${path} does not start with a jitgate audit export header (is it a JSONL export?)`);
  }
  if (header.version !== EXPORT_VERSION) {
    throw new JitgateError('audit_export_invalid', `${path} is export version ${String(header.version)}; this jitgate reads version ${EXPORT_VERSION}`);
  }
  const keys = opts.keys ?? publicKeySet(Array.isArray(header.keys) ? header.keys : [], `the keys in ${path}`);
  const firstSeq = Number.isSafeInteger(header.first_seq) ? (header.first_seq as number) : 1;
  const verifier = new ChainVerifier({ keys: keys.keys, checkpoints, expectedFirstSeq: firstSeq, anchorRequired: false });

  let end: ExportEnd | null = null;
  let early: VerifyProblem | null = null;
  const every = opts.progressEveryMs ?? 1000;
  let lastProgress = started;
  let lastSeq = firstSeq - 1;
  for await (const { n, text } of lines(path)) {
    if (end) {
      early = { seq: lastSeq + 1, through: null, kind: 'malformed', reason: `line ${n} comes after the end line` };
      break;
    }
    const line = classifyLine(parse(text));
    if (line === null) {
      early = { seq: lastSeq + 1, through: null, kind: 'malformed', reason: `line ${n} is not an export record` };
      break;
    }
    if (line.kind === 'end') {
      end = line.end;
      continue;
    }
    if (line.kind !== 'event') continue;
    const e = chainEvent(line.event);
    if (e === null) {
      early = { seq: lastSeq + 1, through: null, kind: 'malformed', reason: `line ${n} is not a well-formed event` };
      break;
    }
    verifier.push(e);
    if (verifier.failed) break;
    lastSeq = e.seq;
    const now = performance.now();
    if (opts.onProgress && now - lastProgress >= every) {
      lastProgress = now;
      opts.onProgress({ events: verifier.events, lastSeq, headSeq: lastSeq, elapsedMs: now - started });
    }
  }
  const failedInChain = verifier.failed;
  const endInfo = end
    ? {
        lastSeq: Number.isSafeInteger(end.last_seq) ? end.last_seq : null,
        lastHash: typeof end.last_hash === 'string' ? end.last_hash : null,
        events: Number.isSafeInteger(end.events) ? end.events : -1,
      }
    : 'missing';
  const report = verifier.finish(failedInChain || early ? undefined : endInfo);
  const problem = failedInChain ? report.problem : (early ?? report.problem);
  return {
    ...report,
    ok: problem === null,
    problem,
    unsigned_tail: problem ? null : report.unsigned_tail,
    source: `file ${path}`,
    keys: { source: keys.source, kids: [...keys.keys.keys()], rejected: [...keys.rejected] },
    duration_ms: Math.round(performance.now() - started),
  };
}
