/**
 * Verifying the audit chain, as pure logic: events go in, in the order
 * their source lists them; a report comes out naming the first seq that
 * cannot be trusted and why. Readers (the database, an export file) feed it;
 * it does no I/O.
 *
 * What each check catches:
 * - seq not one more than the last → events removed (`missing`), or listed
 *   out of order (`out_of_order`);
 * - an event's content does not hash to its `hash` → `altered`;
 * - an event does not link to the one before (`prev_hash`) but hashes right
 *   itself → the one before was altered and its hash recomputed (`rehashed`);
 *   neither links nor hashes → moved, swapped or inserted (`out_of_order`);
 * - a signed checkpoint disagrees with the chain at its seq → the chain was
 *   rewritten consistently (`checkpoint_mismatch`); a checkpoint that does
 *   not verify with a trusted key (`checkpoint_invalid`) vouches for nothing;
 * - a checkpoint, the chain head or an export's end line knows of events the
 *   chain no longer has → `truncated`.
 */
import type { KeyObject } from 'node:crypto';
import { canonicalJson, eventHashOfCanonicalData, GENESIS_HASH, type HashedEventFields } from './event-hash.js';
import { verifyCheckpoint } from './checkpoint-token.js';

export type VerifyProblemKind =
  | 'altered'
  | 'rehashed'
  | 'missing'
  | 'out_of_order'
  | 'unanchored'
  | 'checkpoint_mismatch'
  | 'checkpoint_invalid'
  | 'truncated'
  | 'malformed';

/** The first thing found wrong: from `seq` (through `through`, when a range) nothing can be trusted. */
export interface VerifyProblem {
  seq: number;
  through: number | null;
  kind: VerifyProblemKind;
  reason: string;
}

/** An event as a reader hands it over; `data` is the stored JSON text or the parsed object. */
export interface ChainEvent extends Omit<HashedEventFields, 'data'> {
  data: string | Record<string, unknown>;
  hash: string;
}

/** A stored checkpoint: its row (or export line) columns and the JWS. */
export interface StoredCheckpoint {
  seq: number;
  hash: string;
  jws: string;
}

export interface VerifyOptions {
  /** Trusted public keys by kid. */
  keys: ReadonlyMap<string, KeyObject>;
  checkpoints: readonly StoredCheckpoint[];
  /** The seq the chain should start at: 1, one past the last recorded prune, or an export's declared first seq. */
  expectedFirstSeq: number;
  /** A chain not starting at seq 1 must link to a valid checkpoint just before it (true for the database). */
  anchorRequired: boolean;
  /** The chain head as stored (database only): an unsigned claim about the last event, checked too. */
  head?: { seq: number; hash: string } | null;
}

/** What the chain looks like once read to the end. */
export interface VerifyReport {
  ok: boolean;
  events: number;
  first_seq: number | null;
  last_seq: number | null;
  last_hash: string | null;
  /** The checkpoint a chain not starting at seq 1 was verified from. */
  anchor: { seq: number; hash: string } | null;
  checkpoints: { total: number; valid: number; last_valid_seq: number | null; kids: string[] };
  /** Events after the last valid checkpoint: consistent, but no signature vouches for them yet. */
  unsigned_tail: { from: number; to: number } | null;
  problem: VerifyProblem | null;
}

interface CheckedCheckpoint {
  seq: number;
  hash: string;
  kid: string | null;
  at: string | null;
  valid: boolean;
  reason: string | null;
}

/** Checks every checkpoint's signature and that its row agrees with what it signs; sorted by seq. */
export function checkCheckpoints(stored: readonly StoredCheckpoint[], keys: ReadonlyMap<string, KeyObject>): CheckedCheckpoint[] {
  const out: CheckedCheckpoint[] = stored.map((c) => {
    const v = verifyCheckpoint(c.jws, keys);
    if (!v.ok) return { seq: c.seq, hash: c.hash, kid: v.kid, at: null, valid: false, reason: v.reason };
    if (v.claims.seq !== c.seq || v.claims.hash !== c.hash) {
      return { seq: c.seq, hash: c.hash, kid: v.kid, at: v.claims.at, valid: false, reason: 'its stored seq/hash differ from what it signs' };
    }
    return { seq: c.seq, hash: c.hash, kid: v.kid, at: v.claims.at, valid: true, reason: null };
  });
  return out.sort((a, b) => a.seq - b.seq);
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Feeds events in order with {@link push} until {@link failed}, then {@link finish}. */
export class ChainVerifier {
  readonly #opts: VerifyOptions;
  readonly #cps: CheckedCheckpoint[];
  #cpNext = 0;
  #events = 0;
  #first: number | null = null;
  #last: { seq: number; hash: string } | null = null;
  /** The last event hashed right but has not been linked to by a successor yet. */
  #anchor: { seq: number; hash: string } | null = null;
  #lastValidCp: number | null = null;
  /** A checkpoint that did not verify, waiting for a later valid one to vouch for its events instead. */
  #pendingInvalid: CheckedCheckpoint | null = null;
  #problem: VerifyProblem | null = null;

  constructor(opts: VerifyOptions) {
    this.#opts = opts;
    this.#cps = checkCheckpoints(opts.checkpoints, opts.keys);
  }

  /** True once a problem is found: the caller may stop reading. */
  get failed(): boolean {
    return this.#problem !== null;
  }

  get events(): number {
    return this.#events;
  }

  #fail(seq: number, through: number | null, kind: VerifyProblemKind, reason: string): void {
    // A checkpoint already seen to be invalid covers earlier seqs than anything found after it.
    const pending = this.#pendingInvalid;
    if (pending && this.#vouchedFrom() <= seq) {
      this.#problem = this.#invalidCheckpointProblem(pending);
      return;
    }
    this.#problem ??= { seq, through, kind, reason };
  }

  /** The first seq no valid checkpoint vouches for. */
  #vouchedFrom(): number {
    return this.#lastValidCp !== null ? this.#lastValidCp + 1 : (this.#first ?? this.#opts.expectedFirstSeq);
  }

  #invalidCheckpointProblem(cp: CheckedCheckpoint): VerifyProblem {
    const from = Math.min(this.#vouchedFrom(), cp.seq);
    return {
      seq: from,
      through: cp.seq,
      kind: 'checkpoint_invalid',
      reason: `the checkpoint at seq ${fmt(cp.seq)} is not valid: ${cp.reason}; no valid signature vouches for events ${fmt(from)}..${fmt(cp.seq)}`,
    };
  }

  /** One event, in the source's order. */
  push(e: ChainEvent): void {
    if (this.#problem) return;
    this.#events++;
    const seq = e.seq;
    if (this.#first === null) {
      this.#first = seq;
      this.#start(e);
      if (this.#problem) return;
    } else {
      const expected = this.#last!.seq + 1;
      if (seq > expected) {
        this.#fail(expected, seq - 1, 'missing', seq - 1 === expected ? `event ${fmt(expected)} is missing` : `events ${fmt(expected)}..${fmt(seq - 1)} are missing`);
        return;
      }
      if (seq < expected) {
        this.#fail(expected, null, 'out_of_order', `seq ${fmt(seq)} appears where ${fmt(expected)} should`);
        return;
      }
    }

    const selfOk = this.#hashMatches(e);
    if (selfOk === null) {
      this.#fail(seq, null, 'malformed', `event ${fmt(seq)} has data that is not a JSON object`);
      return;
    }
    const prevHash = this.#last?.hash ?? null;
    const linked = prevHash === null || e.prev_hash === prevHash;
    if (!linked) {
      const prev = this.#last?.seq ?? seq - 1;
      if (selfOk && this.#lastValidCp === prev) {
        // A signature vouches for the one before, so this one was changed.
        this.#fail(seq, null, 'rehashed', `event ${fmt(seq)} was changed and its hash recomputed: it no longer links to event ${fmt(prev)}`);
      } else if (selfOk) {
        this.#fail(prev, null, 'rehashed', `event ${fmt(prev)} was changed and its hash recomputed: event ${fmt(seq)} links to a different hash`);
      } else {
        this.#fail(seq, null, 'out_of_order', `event ${fmt(seq)} neither links to event ${fmt(seq - 1)} nor matches its own hash: it was moved, swapped, inserted or altered`);
      }
      return;
    }
    if (!selfOk) {
      this.#fail(seq, null, 'altered', `event ${fmt(seq)} was altered: its content does not match its hash`);
      return;
    }
    this.#last = { seq, hash: e.hash };
    this.#checkpointsAt(seq, e.hash);
    const head = this.#opts.head;
    if (head && head.seq === seq && head.hash !== e.hash) {
      this.#fail(seq, null, 'altered', `the chain head records a different hash for event ${fmt(seq)}`);
    }
  }

  #start(e: ChainEvent): void {
    const { expectedFirstSeq } = this.#opts;
    const seq = e.seq;
    if (seq > expectedFirstSeq) {
      this.#fail(
        expectedFirstSeq,
        seq - 1,
        'missing',
        `events ${fmt(expectedFirstSeq)}..${fmt(seq - 1)} are missing` +
          (this.#opts.anchorRequired ? ' and no audit.pruned event records their removal' : ''),
      );
      return;
    }
    // Checkpoints of a pruned stretch vouch for nothing still here, but a forged one is still tampering.
    while (this.#cpNext < this.#cps.length && this.#cps[this.#cpNext]!.seq < seq - 1) {
      const cp = this.#cps[this.#cpNext++]!;
      if (!cp.valid) {
        this.#fail(cp.seq, null, 'checkpoint_invalid', `the checkpoint at seq ${fmt(cp.seq)} is not valid: ${cp.reason}`);
        return;
      }
    }
    if (seq === 1) {
      if (e.prev_hash !== GENESIS_HASH) this.#fail(1, null, 'unanchored', 'event 1 does not start from the genesis hash');
      return;
    }
    const anchor = this.#cps[this.#cpNext]?.seq === seq - 1 ? this.#cps[this.#cpNext++]! : null;
    if (anchor && !anchor.valid) {
      this.#fail(seq - 1, null, 'checkpoint_invalid', `the checkpoint at seq ${fmt(seq - 1)} that the chain starts from is not valid: ${anchor.reason}`);
      return;
    }
    if (anchor) {
      if (anchor.hash !== e.prev_hash) {
        this.#fail(seq, null, 'unanchored', `event ${fmt(seq)} does not link to the signed checkpoint at seq ${fmt(seq - 1)}`);
        return;
      }
      this.#anchor = { seq: anchor.seq, hash: anchor.hash };
      this.#lastValidCp = anchor.seq;
      return;
    }
    if (this.#opts.anchorRequired) {
      this.#fail(seq, null, 'unanchored', `the chain starts at seq ${fmt(seq)} but there is no signed checkpoint at seq ${fmt(seq - 1)} to start from`);
    }
  }

  /** true/false, or null when `data` is not a JSON object at all. */
  #hashMatches(e: ChainEvent): boolean | null {
    let text: string;
    if (typeof e.data === 'string') {
      if (eventHashOfCanonicalData(e, e.data) === e.hash) return true;
      // Stored text that is not canonical (rows written before data was stored canonically).
      let parsed: unknown;
      try {
        parsed = JSON.parse(e.data);
      } catch {
        return null;
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
      text = canonicalJson(parsed);
      if (text === e.data) return false;
    } else {
      if (e.data === null || typeof e.data !== 'object' || Array.isArray(e.data)) return null;
      try {
        text = canonicalJson(e.data);
      } catch {
        return null;
      }
    }
    try {
      return eventHashOfCanonicalData(e, text) === e.hash;
    } catch {
      return false;
    }
  }

  #checkpointsAt(seq: number, hash: string): void {
    while (this.#cpNext < this.#cps.length && this.#cps[this.#cpNext]!.seq <= seq) {
      const cp = this.#cps[this.#cpNext++]!;
      if (cp.seq < seq) continue; // below the first event: handled at the start
      if (!cp.valid) {
        this.#pendingInvalid ??= cp;
        continue;
      }
      if (cp.hash !== hash) {
        const from = this.#vouchedFrom();
        this.#fail(
          from,
          seq,
          'checkpoint_mismatch',
          `events ${fmt(from)}..${fmt(seq)} do not match the checkpoint signed at seq ${fmt(seq)}` +
            `${cp.at ? ` on ${cp.at}` : ''} with key ${cp.kid}: the chain was rewritten`,
        );
        return;
      }
      const pending = this.#pendingInvalid;
      if (pending) {
        // The events are vouched for by this later one; the invalid checkpoint itself was tampered with.
        this.#pendingInvalid = null;
        this.#fail(
          pending.seq,
          null,
          'checkpoint_invalid',
          `the checkpoint at seq ${fmt(pending.seq)} is not valid: ${pending.reason} (the events up to it are vouched for by the checkpoint at seq ${fmt(seq)})`,
        );
        return;
      }
      this.#lastValidCp = seq;
    }
  }

  /**
   * Ends the run. `end`, when the source has one (an export's end line),
   * states how many events and which last one it holds.
   */
  finish(end?: { lastSeq: number | null; lastHash: string | null; events: number } | 'missing'): VerifyReport {
    if (!this.#problem) this.#finishChecks(end);
    const valid = this.#cps.filter((c) => c.valid);
    const last = this.#last;
    const vouchedFrom = this.#vouchedFrom();
    return {
      ok: this.#problem === null,
      events: this.#events,
      first_seq: this.#first,
      last_seq: last?.seq ?? null,
      last_hash: last?.hash ?? null,
      anchor: this.#anchor,
      checkpoints: {
        total: this.#cps.length,
        valid: valid.length,
        last_valid_seq: this.#lastValidCp,
        kids: [...new Set(valid.map((c) => c.kid!))],
      },
      unsigned_tail: last && this.#problem === null && vouchedFrom <= last.seq ? { from: vouchedFrom, to: last.seq } : null,
      problem: this.#problem,
    };
  }

  #finishChecks(end: Parameters<ChainVerifier['finish']>[0]): void {
    const lastSeq = this.#last?.seq ?? (this.#first !== null ? this.#first - 1 : this.#opts.expectedFirstSeq - 1);
    if (this.#pendingInvalid) {
      this.#problem = this.#invalidCheckpointProblem(this.#pendingInvalid);
      return;
    }
    const beyond = this.#cps.slice(this.#cpNext).filter((c) => c.seq > lastSeq);
    const invalidBeyond = beyond.find((c) => !c.valid);
    if (invalidBeyond) {
      this.#problem = {
        seq: invalidBeyond.seq,
        through: null,
        kind: 'checkpoint_invalid',
        reason: `the checkpoint at seq ${fmt(invalidBeyond.seq)} is not valid: ${invalidBeyond.reason}`,
      };
      return;
    }
    const furthest = beyond.at(-1);
    if (furthest && end === undefined) {
      this.#problem = {
        seq: lastSeq + 1,
        through: furthest.seq,
        kind: 'truncated',
        reason: `a signed checkpoint vouches for event ${fmt(furthest.seq)} but the chain ends at ${fmt(lastSeq)}: events were removed from its end`,
      };
      return;
    }
    const head = this.#opts.head;
    if (head && head.seq > lastSeq) {
      this.#problem = {
        seq: lastSeq + 1,
        through: head.seq,
        kind: 'truncated',
        reason: `the chain head records event ${fmt(head.seq)} but the chain ends at ${fmt(lastSeq)}: events were removed from its end`,
      };
      return;
    }
    if (end === 'missing') {
      this.#problem = {
        seq: lastSeq + 1,
        through: null,
        kind: 'truncated',
        reason: `the export has no end line after event ${fmt(lastSeq)}: it was cut short`,
      };
      return;
    }
    if (end && (end.lastSeq !== (this.#last?.seq ?? null) || end.lastHash !== (this.#last?.hash ?? null) || end.events !== this.#events)) {
      const said = end.lastSeq ?? lastSeq;
      this.#problem = {
        seq: Math.min(lastSeq, said) + 1,
        through: Math.max(lastSeq, said) > lastSeq ? said : null,
        kind: 'truncated',
        reason: `the export's end line names ${fmt(end.events)} events ending at seq ${end.lastSeq === null ? 'none' : fmt(end.lastSeq)}, but it holds ${fmt(this.#events)} ending at ${fmt(lastSeq)}`,
      };
    }
  }
}
