/**
 * The one form of a request path that both the route check and the upstream
 * see (pure). A path an upstream could read differently from the gateway is
 * refused rather than guessed at: encoded slashes and backslashes, control
 * characters, dot segments carrying `;` parameters (`..;/` reaches the
 * parent on some servers), malformed percent escapes.
 *
 * Accepted paths are normalized as RFC 3986 §6.2.2 says: percent-encoded
 * unreserved characters are decoded (`%69nvoices` is `invoices`), other
 * escapes are upper-cased, empty segments collapse (`//`), and `.` and `..`
 * segments are resolved, also when encoded (`%2e%2e`).
 */

export type NormalizedPath = { ok: true; path: string } | { ok: false; reason: string };

const HEX = /^[0-9A-Fa-f]{2}$/;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
/** RFC 3986 pchar minus `%` (handled apart) plus `/`: what may appear raw. */
const RAW_ALLOWED = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;

/**
 * Paths already in normal form: segments of raw pchars that start with
 * anything but a dot (so no `.`/`..`, no empty segment), no `%`, at most a
 * trailing slash. Most requests look like this; they need no rebuilding.
 */
const ALREADY_NORMAL = /^(?:\/[A-Za-z0-9\-_~!$&'()*+,;=:@][A-Za-z0-9\-._~!$&'()*+,;=:@]*)*\/?$/;

export function normalizePath(raw: string): NormalizedPath {
  if (ALREADY_NORMAL.test(raw) && raw !== '') return { ok: true, path: raw };
  if (!raw.startsWith('/')) return { ok: false, reason: 'the request target must be a path starting with /' };
  const decoded = decodeUnreserved(raw);
  if (!decoded.ok) return decoded;
  const segments = decoded.path.split('/').slice(1);
  const out: string[] = [];
  let trailingSlash = false;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg === '' ) {
      if (last) trailingSlash = out.length > 0;
      continue;
    }
    const bare = seg.split(';')[0]!;
    if ((bare === '.' || bare === '..') && bare !== seg) {
      return { ok: false, reason: 'a dot segment with ; parameters is not allowed' };
    }
    if (seg === '.') {
      if (last) trailingSlash = out.length > 0;
      continue;
    }
    if (seg === '..') {
      out.pop();
      if (last) trailingSlash = out.length > 0;
      continue;
    }
    out.push(seg);
    trailingSlash = false;
  }
  return { ok: true, path: `/${out.join('/')}${trailingSlash ? '/' : ''}` };
}

function decodeUnreserved(raw: string): NormalizedPath {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== '%') {
      if (!RAW_ALLOWED.test(c)) {
        return { ok: false, reason: c === '\\' ? 'backslashes are not allowed in the path' : `the character ${JSON.stringify(c)} must be percent-encoded` };
      }
      out += c;
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return { ok: false, reason: 'a % in the path must start a two-digit hex escape' };
    const code = Number.parseInt(hex, 16);
    if (code === 0x2f || code === 0x5c) return { ok: false, reason: 'encoded slashes (%2F, %5C) are not allowed in the path' };
    if (code < 0x20 || code === 0x7f) return { ok: false, reason: 'encoded control characters are not allowed in the path' };
    const ch = String.fromCharCode(code);
    out += UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return { ok: true, path: out };
}
