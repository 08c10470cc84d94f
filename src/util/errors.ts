/**
 * Internal errors carry a stable `code` that tests and callers match on;
 * the message is for people and may change.
 */
export class JitgateError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JitgateError';
    this.code = code;
  }
}
