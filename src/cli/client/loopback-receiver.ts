/**
 * The loopback redirect of the browser login (RFC 8252 §7.3): a one-shot
 * HTTP listener on 127.0.0.1 and a port the OS picks. It takes exactly one
 * answer on `/callback` whose `state` matches, then closes; anything else
 * (another path, a wrong state from a page trying its luck) is refused
 * without ending the wait.
 */
import { createServer, type Server } from 'node:http';

/** What the browser brought back: the code, or the error the server redirected with. */
export type CallbackResult =
  | { ok: true; code: string; iss: string | null }
  | { ok: false; error: string; description: string | null };

export interface LoopbackReceiver {
  /** `http://127.0.0.1:<port>/callback`. */
  redirectUri: string;
  /** Settles with the first answer that carries the expected state. */
  result: Promise<CallbackResult>;
  close(): void;
}

const PAGE = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto"><h1>${title}</h1><p>${text}</p></body></html>`;

export async function startLoopbackReceiver(expectedState: string): Promise<LoopbackReceiver> {
  let settle!: (r: CallbackResult) => void;
  const result = new Promise<CallbackResult>((resolve) => (settle = resolve));
  let done = false;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('referrer-policy', 'no-referrer');
    if (req.method !== 'GET' || url.pathname !== '/callback' || done) {
      res.statusCode = 404;
      res.end(PAGE('Not found', 'This address only takes the answer of one jitgate login.'));
      return;
    }
    const q = url.searchParams;
    if (q.getAll('state').length !== 1 || q.get('state') !== expectedState) {
      res.statusCode = 400;
      res.end(PAGE('Login not accepted', 'This answer does not belong to the login the jitgate command started.'));
      return;
    }
    done = true;
    const code = q.get('code');
    const error = q.get('error');
    if (error !== null || !code) {
      res.end(PAGE('Login failed', 'The server did not sign you in. See the terminal for the reason.'));
      settle({ ok: false, error: error ?? 'invalid_request', description: q.get('error_description') });
    } else {
      res.end(PAGE('Logged in', 'You are logged in to jitgate. You can close this window and return to the terminal.'));
      settle({ ok: true, code, iss: q.get('iss') });
    }
    // The answer is on its way; no second one is taken.
    server.close();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    result,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}
