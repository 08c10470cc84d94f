/**
 * The shapes of names a policy file uses. Kept in one place so the loader,
 * the API and the CLI reject the same strings.
 */

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
export const SCOPE_NAME = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * A principal: `user:<id>` or `client:<id>`. The id may be anything visible
 * (federated subjects carry colons, slashes and at-signs) but never
 * whitespace or control characters, which would make logs and tokens ambiguous.
 */
export const PRINCIPAL = /^(user|client):[^\s\p{Cc}]+$/u;

/** Group and bundle names: also valid scope tokens, so a bundle can be asked for by name. */
export const ENTITY_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** An OAuth client id: visible ASCII (RFC 6749 VSCHAR without space). */
export const CLIENT_ID = /^[\x21-\x7E]+$/;

/** An environment label such as `production` or `staging`. */
export const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** An environment variable name, as referenced by `secret_env` and `${NAME}`. */
export const ENV_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An HTTP field name (RFC 9110 token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** An HTTP method (RFC 9110 token); `*` stands for any method. */
export const HTTP_METHOD = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/;

/** A `{claim}` placeholder of a trusted issuer's subject template. */
export const CLAIM_PLACEHOLDER = /\{([A-Za-z0-9_.-]+)\}/g;

export function isPrincipal(value: string): boolean {
  return PRINCIPAL.test(value);
}

export function isScopeName(value: string): boolean {
  return SCOPE_NAME.test(value);
}

/** True for an absolute URI (has a scheme) without a fragment, as RFC 8707 asks of resource indicators. */
export function isAbsoluteUriWithoutFragment(value: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value) || value.includes('#')) return false;
  return URL.canParse(value);
}

/** True for an absolute http: or https: URL. */
export function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol, hostname } = new URL(value);
  return (protocol === 'https:' || protocol === 'http:') && hostname !== '';
}
