/**
 * The parsed YAML document with its source positions: finds the node at a key
 * path (or its nearest existing parent) and the key path at a character offset.
 */
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import type { PolicyPath } from './path.js';

export interface Position {
  line: number;
  column: number;
}

export class YamlSource {
  readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(readonly text: string) {
    // Duplicate keys are errors (uniqueKeys); `<<` merge keys are allowed so
    // shared settings can be written once; positions are raw offsets
    // (prettyErrors off) so every finding is placed the same way.
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true, merge: true });
  }

  position(offset: number): Position {
    const { line, col } = this.lines.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { line: Math.max(1, line), column: Math.max(1, col) };
  }

  /**
   * Where the value at `path` is written; with `atKey`, where its key is.
   * Walks as far as the document goes, so a missing key is placed at the
   * mapping that should hold it.
   */
  locate(path: PolicyPath, opts: { atKey?: boolean; valueOffset?: number } = {}): Position | null {
    let node: unknown = this.doc.contents;
    let at: Node | null = isNode(node) ? node : null;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        if (last && opts.atKey && isNode(pair.key)) return this.start(pair.key);
        node = pair.value;
        // A block collection starts on the line after its key, and `key:` with
        // nothing after it has no place of its own: the key is where to point.
        const pointAtKey = !isNode(node) || !node.range || ((isMap(node) || isSeq(node)) && !node.flow);
        at = pointAtKey && isNode(pair.key) ? pair.key : isNode(node) ? node : at;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        node = item;
        if (isNode(item)) at = item;
      } else {
        break;
      }
    }
    if (!at) return null;
    if (opts.valueOffset !== undefined && isScalar(at) && at === node) {
      const inner = this.offsetInScalar(at, opts.valueOffset);
      if (inner !== null) return this.position(inner);
    }
    return this.start(at);
  }

  /** The key path of the innermost node containing `offset`. */
  pathAt(offset: number): PolicyPath {
    const path: (string | number)[] = [];
    let node: unknown = this.doc.contents;
    for (;;) {
      if (isMap(node)) {
        const pair = node.items.find((p) => contains(p.key, offset) || contains(p.value, offset));
        if (!pair || !isScalar(pair.key)) return path;
        path.push(String(pair.key.value));
        if (contains(pair.key, offset)) return path;
        node = pair.value;
      } else if (isSeq(node)) {
        const index = node.items.findIndex((item) => contains(item, offset));
        if (index < 0) return path;
        path.push(index);
        node = node.items[index];
      } else {
        return path;
      }
    }
  }

  private start(node: Node): Position | null {
    return node.range ? this.position(node.range[0]) : null;
  }

  /**
   * The source offset of character `index` of a scalar's value, when the
   * source spells the value out literally (no escapes, no folding); null
   * otherwise, and the caller points at the scalar itself.
   */
  private offsetInScalar(node: Node, index: number): number | null {
    if (!isScalar(node) || typeof node.value !== 'string' || !node.range) return null;
    const value = node.value;
    const start = node.range[0];
    switch (node.type) {
      case 'PLAIN':
      case 'QUOTE_SINGLE':
      case 'QUOTE_DOUBLE': {
        const content = node.type === 'PLAIN' ? start : start + 1;
        return this.text.slice(content, content + value.length) === value ? content + Math.min(index, value.length) : null;
      }
      case 'BLOCK_LITERAL': {
        // Each line of a literal block is the value's line after the block's indentation.
        const before = value.slice(0, index).split('\n');
        const lineInBlock = before.length - 1;
        const column = before[before.length - 1]?.length ?? 0;
        const headerEnd = this.text.indexOf('\n', start);
        if (headerEnd < 0) return null;
        let lineStart = headerEnd + 1;
        const valueLines = value.split('\n');
        for (let i = 0; i < lineInBlock; i++) {
          const next = this.text.indexOf('\n', lineStart);
          if (next < 0) return null;
          lineStart = next + 1;
        }
        const lineEnd = this.text.indexOf('\n', lineStart);
        const sourceLine = this.text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
        const wanted = valueLines[lineInBlock] ?? '';
        const indent = sourceLine.length - wanted.length;
        if (indent < 0 || sourceLine.slice(indent) !== wanted) return null;
        return lineStart + indent + column;
      }
      default:
        return null;
    }
  }
}

function isNode(value: unknown): value is Node {
  return isScalar(value) || isMap(value) || isSeq(value) || isAlias(value);
}

function contains(value: unknown, offset: number): boolean {
  if (isPair(value)) return false;
  if (!isNode(value) || !value.range) return false;
  return offset >= value.range[0] && offset < value.range[2];
}
