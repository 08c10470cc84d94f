import { request, type Dispatcher } from 'undici';

export interface SendResult {
  ok: boolean;
  /** The receiver's HTTP status, or null when no answer came. */
  status: number | null;
  /** Why it failed, for the delivery record; never holds the URL (it may carry a secret path). */
  error: string | null;
}

/** Longest receiver answer read, bytes; the rest is dropped, nobody reads it. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * POSTs one delivery. A 2xx answer is success; anything else, a redirect
 * included (redirects are never followed, so a receiver cannot bounce a
 * signed body to a third party), a timeout or a network error is a failure.
 */
export async function sendWebhook(
  dispatcher: Dispatcher,
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<SendResult> {
  try {
    const res = await request(url, {
      method: 'POST',
      body,
      headers,
      dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body.dump({ limit: MAX_ANSWER_BYTES }).catch(() => {});
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode, error: null };
    const error = res.statusCode >= 300 && res.statusCode < 400 ? `HTTP ${res.statusCode}: redirect not followed` : `HTTP ${res.statusCode}`;
    return { ok: false, status: res.statusCode, error };
  } catch (err) {
    return { ok: false, status: null, error: describe(err, url) };
  }
}

function describe(err: unknown, url: string): string {
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message.split(url).join('<url>') : String(err);
  return `${code}: ${message}`.slice(0, 500);
}

/** The URL as logs may show it: scheme and host only, since a webhook path can be its credential (Slack). */
export function redactUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '<invalid url>';
  }
}
