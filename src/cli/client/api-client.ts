import { exchange } from './http.js';
import { failureFromAnswer } from './problem.js';
import { CliFailure } from './failure.js';

export interface ApiClientOptions {
  /** Normalized server URL (no trailing slash). */
  server: string;
  /** The access token sent as `Authorization: Bearer`, or how to get a current one before each call. */
  token: string | (() => Promise<string>);
  fetch: typeof fetch;
  timeoutMs?: number;
}

/**
 * The REST API (`/api/v1`) as the CLI calls it: JSON in, JSON out, and any
 * refusal thrown as a `CliFailure` that says what the server said (problem
 * details, an MFA challenge, an expired login).
 */
export class ApiClient {
  constructor(private readonly opts: ApiClientOptions) {}

  get server(): string {
    return this.opts.server;
  }

  /** GET `/api/v1{path}`; query members that are undefined are left out. */
  async get<T>(path: string, query: Record<string, string | undefined> = {}, signal?: AbortSignal): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, v);
    const q = qs.toString();
    return this.send<T>('GET', `${path}${q ? `?${q}` : ''}`, undefined, signal);
  }

  /** POST `/api/v1{path}` with a JSON body (`{}` when there is nothing to say). */
  async post<T>(path: string, body: Record<string, unknown> = {}): Promise<T> {
    return this.send<T>('POST', path, body);
  }

  private async send<T>(method: string, path: string, body?: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
    const token = typeof this.opts.token === 'string' ? this.opts.token : await this.opts.token();
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const answer = await exchange(
      this.opts.fetch,
      this.opts.server,
      `${this.opts.server}/api/v1${path}`,
      { method, headers, body: body === undefined ? undefined : JSON.stringify(dropUndefined(body)), signal },
      this.opts.timeoutMs,
    );
    if (answer.status < 200 || answer.status >= 300) throw failureFromAnswer(this.opts.server, answer);
    if (answer.text === '') return null as T;
    try {
      return JSON.parse(answer.text) as T;
    } catch {
      throw new CliFailure('server_error', `the server at ${this.opts.server} answered ${method} ${path} with something that is not JSON`);
    }
  }
}

function dropUndefined(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
}
