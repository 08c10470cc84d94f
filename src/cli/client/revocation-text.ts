/** What a principal revocation ended, as one phrase: `2 token(s), 1 grant(s), 1 refresh token family, 0 login session(s)`. */
export function revokedCounts(r: { tokens: number; grants: number; refresh_families: number; sessions: number }): string {
  const families = `${r.refresh_families} refresh token famil${r.refresh_families === 1 ? 'y' : 'ies'}`;
  return `${r.tokens} token(s), ${r.grants} grant(s), ${families}, ${r.sessions} login session(s)`;
}
