/** Reading Prometheus text exposition in tests. */
import { request } from 'undici';

export interface Scrape {
  status: number;
  contentType: string;
  text: string;
  /** The value of the sample `name{labels}` (labels matched exactly), or undefined. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

export async function scrape(baseUrl: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await request(`${baseUrl}/metrics`, { headers });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    contentType: String(res.headers['content-type']),
    text,
    value(name, labels = {}) {
      const want = Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .sort()
        .join(',');
      for (const line of text.split('\n')) {
        if (line.startsWith('#')) continue;
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const got = (m[2] ?? '')
          .split(/,(?=[a-zA-Z_]+=")/)
          .filter(Boolean)
          .sort()
          .join(',');
        if (got === want) return m[3] === '+Inf' ? Infinity : Number(m[3]);
      }
      return undefined;
    },
  };
}
