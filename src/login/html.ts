import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';

/** Escapes text for HTML element content and double-quoted attribute values. */
export function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #99a;border-radius:4px}
button{margin-top:1.2rem;width:100%;padding:.6rem;font-size:1rem;border:0;border-radius:4px;background:#2456c8;color:#fff;cursor:pointer}
button.secondary{background:#e4e7ee;color:#1d2330}.error{background:#fde8e8;border:1px solid #e0a0a0;padding:.6rem;border-radius:4px}
.info{background:#e8f0fd;border:1px solid #a0b8e0;padding:.6rem;border-radius:4px}.or{text-align:center;margin:1.2rem 0 0;color:#667}
code{font-size:1.1rem;letter-spacing:.1em}`;

/** The page's only style, allowed by its hash: no inline script or style can run besides it. */
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}'`;

/** A whole page around `body` (already escaped HTML). */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(title)} · jitgate</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

/**
 * Sends a page with the headers every login page carries. `formTargets` are
 * origins a form post may lead to besides this server: browsers apply
 * `form-action` to the redirects that follow a post, so the client's
 * redirect URI (and the upstream provider) must be listed for the sign-in to
 * complete.
 */
export function sendPage(reply: FastifyReply, status: number, html: string, formTargets: readonly string[] = []): FastifyReply {
  const formAction = ["'self'", ...new Set(formTargets)].join(' ');
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header(
      'content-security-policy',
      `default-src 'none'; style-src ${STYLE_HASH}; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    )
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .send(html);
}

/** The origin of a URL, for `form-action`; null when it has none. */
export function originOf(url: string): string | null {
  try {
    const o = new URL(url).origin;
    return o === 'null' ? null : o;
  } catch {
    return null;
  }
}

/** A page that only says something: an error, or that a step is done. */
export function messagePage(title: string, message: string, kind: 'error' | 'info' = 'error'): string {
  return page(title, `<h1>${esc(title)}</h1><p class="${kind}">${esc(message)}</p>`);
}
