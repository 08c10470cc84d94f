import { usage } from './failure.js';

/**
 * The canonical form of a jitgate server URL, the key its saved login is
 * stored under: scheme, host, port and path, without a trailing slash, query
 * or fragment, so `http://h:8080/` and `http://h:8080` are the same server.
 */
export function normalizeServerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw usage(`"${raw}" is not a URL: give the server as http(s)://host[:port], e.g. https://jit.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw usage(`the server URL must be http:// or https:// (got ${url.protocol})`);
  }
  if (url.username || url.password) throw usage('the server URL must not carry a user name or password');
  if (url.search || url.hash) throw usage('the server URL must not carry a query or fragment');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Plain http to anything but this machine sends bearer tokens in the clear. */
export function isCleartextRemote(server: string): boolean {
  const url = new URL(server);
  if (url.protocol !== 'http:') return false;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host));
}

