/**
 * Text from a server reaches a person's terminal: control characters in it
 * (an escape sequence in a reason or a rule name) could rewrite the screen
 * or the window title. Every server-supplied string goes through here first.
 */
// C0 controls except none, DEL, and C1 controls (which some terminals honour as CSI).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` on one line with control characters shown as `\xNN` escapes. */
export function printable(text: unknown): string {
  const s = typeof text === 'string' ? text : text === null || text === undefined ? '' : String(text);
  return s.replace(CONTROL, (c) => {
    if (c === '\n' || c === '\r' || c === '\t') return ' ';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** A list of server-supplied names, comma-separated, or `-` when empty. */
export function list(items: readonly unknown[] | null | undefined, empty = '-'): string {
  return items && items.length > 0 ? items.map(printable).join(', ') : empty;
}
