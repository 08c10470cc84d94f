// Route path globs (pure): `*` matches within one path segment, `**` across
// segments. A whole `**` segment matches zero or more segments, so
// `/invoices/**` covers `/invoices`, `/invoices/` and `/invoices/2024/07`,
// and `/a/**/b` covers `/a/b` and `/a/x/y/b`. Everything else matches
// itself. Globs are matched against normalized paths (normalize-path.ts).

/** The regular expression a route's `path` glob stands for. */
export function compileRouteGlob(glob: string): RegExp {
  let re = '^';
  const segments = glob.split('/').slice(1);
  for (const seg of segments) {
    if (seg === '**') {
      re += '(?:/.*)?';
      continue;
    }
    re += '/';
    for (let i = 0; i < seg.length; i++) {
      const c = seg[i]!;
      if (c === '*') {
        if (seg[i + 1] === '*') {
          re += '.*';
          i++;
        } else re += '[^/]*';
      } else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`${re}$`);
}
