/**
 * The upstream credentials of a resource (`inject_headers`), with `${NAME}`
 * replaced from the gateway's environment (pure: the environment is passed
 * in). Done once at start so that a missing variable stops the gateway
 * instead of sending an empty credential, and a value that would split a
 * header (CR, LF, NUL) can never reach the wire.
 */
import { JitgateError } from '../util/errors.js';
import { HOP_BY_HOP } from './forward-headers.js';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** RFC 9110 field-value: visible ASCII, space, tab, obs-text. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers the gateway itself owns on the upstream request. */
const RESERVED = new Set([...HOP_BY_HOP, 'host', 'content-length', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id']);

/**
 * Expanded headers, names in lower case. Throws JitgateError
 * `gateway_env_missing` (a variable unset or empty) or
 * `gateway_header_invalid` (a name the gateway sets itself, or a value with
 * characters a header cannot carry). Messages name the variable, never its value.
 */
export function expandInjectedHeaders(
  templates: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>>,
  audience: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, template] of Object.entries(templates)) {
    const name = rawName.toLowerCase();
    if (!FIELD_NAME.test(name) || RESERVED.has(name)) {
      throw new JitgateError('gateway_header_invalid', `inject_headers of ${audience}: the gateway sets ${name} itself; it cannot be injected`);
    }
    const value = template.replace(REFERENCE, (_m, varName: string) => {
      const v = env[varName];
      if (v === undefined || v === '') {
        throw new JitgateError(
          'gateway_env_missing',
          `inject_headers.${name} of ${audience} needs the environment variable ${varName}, which is not set (or empty)`,
        );
      }
      return v;
    });
    if (!FIELD_VALUE.test(value)) {
      throw new JitgateError(
        'gateway_header_invalid',
        `inject_headers.${name} of ${audience}: the value (after \${…} expansion) holds a line break or control character`,
      );
    }
    out[name] = value.trim();
  }
  return out;
}
