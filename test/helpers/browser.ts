/**
 * A minimal browser for the login pages: a cookie jar, no automatic
 * redirects (tests look at each hop), and form fields read from the HTML.
 */
export class TestBrowser {
  readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  private absolute(url: string): string {
    return new URL(url, this.base).href;
  }

  private store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const maxAge = attrs.map((a) => a.trim().toLowerCase()).find((a) => a.startsWith('max-age='));
      if (maxAge === 'max-age=0') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }

  async get(url: string): Promise<Page> {
    const res = await fetch(this.absolute(url), { redirect: 'manual', headers: this.cookieHeader() });
    this.store(res);
    return Page.of(res);
  }

  async post(url: string, form: Record<string, string>): Promise<Page> {
    const res = await fetch(this.absolute(url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.cookieHeader() },
      body: new URLSearchParams(form),
    });
    this.store(res);
    return Page.of(res);
  }
}

export class Page {
  private constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly html: string,
  ) {}

  static async of(res: Response): Promise<Page> {
    return new Page(res.status, res.headers, await res.text());
  }

  get location(): string | null {
    return this.headers.get('location');
  }

  /** Hidden and prefilled inputs of the page's form, by name. */
  fields(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const m of this.html.matchAll(/<input ([^>]*)>/g)) {
      const attrs = m[1]!;
      const name = /name="([^"]*)"/.exec(attrs)?.[1];
      const value = /value="([^"]*)"/.exec(attrs)?.[1];
      if (name && value !== undefined) out[name] = unescape(value);
    }
    return out;
  }

  /** The text of the page's error message, if any. */
  get error(): string | null {
    const m = /<p class="error"[^>]*>([^<]*)<\/p>/.exec(this.html);
    return m ? unescape(m[1]!) : null;
  }
}

function unescape(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
