/**
 * Server-Sent Events framing (WHATWG HTML §9.2) for the revocation feed.
 * Payloads are single-line JSON, so one `data:` line per event suffices.
 */

/** One event: `id` lets a standard client resume with Last-Event-ID. */
export function sseEvent(event: string, data: unknown, id?: number): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A comment line: ignored by readers, but it proves the stream is alive. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]/g, ' ')}\n\n`;
}
