/**
 * RFC 9457 problem details for the REST API. `type` is a stable URN per
 * error code that clients match on; `title` is the short human name and
 * `detail` says what was wrong this time. Extra members carry what a client
 * needs to recover (the scopes it may request, the longest duration allowed).
 */
export class Problem extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    detail: string,
    options: { title?: string; extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = 'Problem';
    this.status = status;
    this.code = code;
    this.title = options.title ?? titleOf(code);
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }

  get type(): string {
    return problemType(this.code);
  }

  toJSON(): Record<string, unknown> {
    return { type: this.type, title: this.title, status: this.status, detail: this.message, code: this.code, ...this.extra };
  }
}

export function problemType(code: string): string {
  return `urn:jitgate:problem:${code}`;
}

function titleOf(code: string): string {
  const t = code.replace(/_/g, ' ');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

export const notFound = (what: string) => new Problem(404, 'not_found', `${what} does not exist or is not visible to you`);
export const forbidden = (detail: string, extra: Record<string, unknown> = {}) => new Problem(403, 'forbidden', detail, { extra });
