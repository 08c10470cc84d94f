/** A location in the policy document: map keys and list indexes from the root. */
export type PolicyPath = readonly (string | number)[];

const PLAIN_KEY = /^[A-Za-z0-9_:@/+*~$!-]+$/;

/**
 * Dotted form of a path, `groups.engineers.eligible[1]`. Keys that would make
 * the dotted form ambiguous (dots, brackets, spaces) are written `["a.b"]`.
 */
export function formatPath(path: PolicyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}
