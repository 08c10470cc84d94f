/**
 * The hash of one audit event: SHA-256 (hex) over the RFC 8785 canonical
 * JSON of `{seq, id, at, type, actor, subject, data, prev_hash}`.
 *
 * The top-level object always has the same eight members, so its canonical
 * form is written out here in key order instead of being sorted per event;
 * only `data` goes through the general canonicalizer. That keeps verifying a
 * long chain fast, and {@link canonicalEventText} is tested to produce exactly
 * what `canonicalize` makes of the whole object.
 */
import { hash } from 'node:crypto';
import { JitgateError } from '../util/errors.js';

/** The hashed members of an event; `data` is the object, not its text. */
export interface HashedEventFields {
  seq: number;
  id: string;
  at: string;
  type: string;
  actor: string | null;
  subject: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
}

/** prev_hash of the first event: 64 zeros (the migration seeds the chain head with it). */
export { GENESIS_HASH } from '../store/migrations/0002_access.js';

/** Nesting deeper than this is refused: event data is shallow, and a cycle must not recurse forever. */
const MAX_DEPTH = 64;

const SURROGATE = /[\uD800-\uDFFF]/;

function invalid(why: string): JitgateError {
  return new JitgateError('audit_event_invalid', `an audit event cannot be canonicalized: ${why}`);
}

/** Printable ASCII but `"` and `\`: what JSON.stringify writes unescaped. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A string as RFC 8785 writes it (JSON.stringify's escaping); lone surrogates are refused. */
function str(s: string): string {
  // Ids, instants, hashes and most names: the same text without JSON.stringify's cost.
  if (PLAIN.test(s)) return `"${s}"`;
  if (SURROGATE.test(s)) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) {
        const next = s.charCodeAt(i + 1);
        if (!(next >= 0xdc00 && next <= 0xdfff)) throw invalid('a string holds a lone surrogate');
        i++;
      } else if (c >= 0xdc00 && c <= 0xdfff) {
        throw invalid('a string holds a lone surrogate');
      }
    }
  }
  return JSON.stringify(s);
}

function canon(v: unknown, depth: number): string | undefined {
  switch (typeof v) {
    case 'string':
      return str(v);
    case 'number':
      if (!Number.isFinite(v)) throw invalid(`${v} is not a JSON number`);
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (depth > MAX_DEPTH) throw invalid('data nests too deeply (or refers to itself)');
      const o = v as { toJSON?: () => unknown };
      if (typeof o.toJSON === 'function') return canon(o.toJSON(), depth + 1);
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) out += `${i ? ',' : ''}${canon(v[i], depth + 1) ?? 'null'}`;
        return `${out}]`;
      }
      // Default sort compares UTF-16 code units, as RFC 8785 orders keys.
      const keys = Object.keys(v).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const text = canon((v as Record<string, unknown>)[k], depth + 1);
        if (text === undefined) continue;
        out += `${first ? '' : ','}${str(k)}:${text}`;
        first = false;
      }
      return `${out}}`;
    }
    case 'bigint':
      throw invalid('a bigint is not a JSON number');
    default:
      // undefined, functions and symbols have no JSON form: left out of objects, null in arrays.
      return undefined;
  }
}

/**
 * RFC 8785 (JCS) canonical JSON of `value`: object keys sorted by UTF-16
 * code units, no whitespace, strings and numbers as ECMAScript writes them.
 * The same text the `canonicalize` package produces (tested), in a fraction
 * of its time. `audit_event_invalid` for what JSON cannot carry (NaN, lone
 * surrogates).
 */
export function canonicalJson(value: unknown): string {
  const text = canon(value, 0);
  if (text === undefined) throw invalid('the value has no JSON form');
  return text;
}

const strOrNull = (s: string | null) => (s === null ? 'null' : str(s));

/**
 * The canonical text of an event whose `data` is already canonical JSON
 * text: the bytes the event's hash is taken over. Keys in RFC 8785 order
 * (UTF-16 code units): actor, at, data, id, prev_hash, seq, subject, type.
 */
export function canonicalEventText(e: Omit<HashedEventFields, 'data'>, canonicalData: string): string {
  if (!Number.isSafeInteger(e.seq)) throw new JitgateError('audit_event_invalid', `seq ${e.seq} is not a whole number`);
  return (
    `{"actor":${strOrNull(e.actor)},"at":${str(e.at)},"data":${canonicalData},"id":${str(e.id)},` +
    `"prev_hash":${str(e.prev_hash)},"seq":${e.seq},"subject":${strOrNull(e.subject)},"type":${str(e.type)}}`
  );
}

/** SHA-256 hex of an event whose `data` is given as canonical JSON text. */
export function eventHashOfCanonicalData(e: Omit<HashedEventFields, 'data'>, canonicalData: string): string {
  return hash('sha256', canonicalEventText(e, canonicalData), 'hex');
}

/** SHA-256 hex over the RFC 8785 canonical JSON of every field but `hash`. */
export function eventHash(e: HashedEventFields): string {
  return eventHashOfCanonicalData(e, canonicalJson(e.data));
}
