import type { IssueSeverity } from './types.js';
import type { PolicyPath } from './path.js';

/**
 * A finding before it is placed in the file: the loader turns the path into a
 * dotted key path and a line and column.
 */
export interface Finding {
  severity: IssueSeverity;
  path: PolicyPath;
  message: string;
  /** Point at the key of the last path segment (an unknown or duplicate key) rather than its value. */
  atKey?: boolean;
  /** For a string value: the character within it that the message is about (a CEL syntax error). */
  valueOffset?: number;
}

export const error = (path: PolicyPath, message: string, extra?: Partial<Finding>): Finding => ({
  severity: 'error',
  path,
  message,
  ...extra,
});

export const warning = (path: PolicyPath, message: string, extra?: Partial<Finding>): Finding => ({
  severity: 'warning',
  path,
  message,
  ...extra,
});
