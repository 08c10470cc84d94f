/**
 * An incremental Server-Sent Events reader (WHATWG HTML §9.2.6): bytes in,
 * events and comments out, across chunk boundaries. Lines end in LF, CRLF
 * or CR; a blank line dispatches the event gathered so far.
 */

export interface SseMessage {
  event: string;
  data: string;
  id: string | null;
}

export interface SseHandlers {
  message(m: SseMessage): void;
  comment?(text: string): void;
}

/** Longest line accepted; a feed line is one small JSON entry. */
const MAX_LINE = 1 << 20;

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';
  private skipLf = false;
  private event = '';
  private data: string[] = [];
  private id: string | null = null;

  constructor(private readonly on: SseHandlers) {}

  /** Feeds a chunk; throws when a line grows past the bound (the stream is then unusable). */
  push(chunk: Uint8Array): void {
    const text = this.decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 && this.skipLf && i === start) {
        this.skipLf = false;
        start = i + 1;
        continue;
      }
      this.skipLf = false;
      if (c !== 10 && c !== 13) continue;
      this.line(this.pending + text.slice(start, i));
      this.pending = '';
      start = i + 1;
      if (c === 13) this.skipLf = true;
    }
    this.pending += text.slice(start);
    if (this.pending.length > MAX_LINE) throw new Error('an event stream line is too long');
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0 || this.event !== '') {
        this.on.message({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
      }
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) {
      this.on.comment?.(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
  }
}
