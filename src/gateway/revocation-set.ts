/**
 * What the gateway has learned from the revocation feed, checked on every
 * request without a round trip: revoked token ids, revoked or released
 * grants, and scopes withdrawn from principals at an instant. Each entry is
 * kept until its `until` (the latest `exp` of the tokens it affects) and
 * swept after.
 */
import type { AccessTokenClaims } from '../tokens/claims.js';
import type { RevocationEntry } from '../revocations/entry.js';

export type RevokedBecause = 'token_revoked' | 'grant_revoked' | 'scope_withdrawn';

interface Withdrawal {
  scopes: ReadonlySet<string>;
  /** Tokens issued at or before this instant lose the scopes. */
  at: number;
  until: number;
}

export class RevocationSet {
  private readonly tokens = new Map<string, number>();
  private readonly grants = new Map<string, number>();
  private readonly withdrawals = new Map<string, Withdrawal[]>();

  apply(e: RevocationEntry): void {
    if (e.kind === 'token' && e.jti) this.tokens.set(e.jti, Math.max(e.until, this.tokens.get(e.jti) ?? 0));
    else if (e.kind === 'grant' && e.grant) this.grants.set(e.grant, Math.max(e.until, this.grants.get(e.grant) ?? 0));
    else if (e.kind === 'principal_scope' && e.principal && e.scopes) {
      const list = this.withdrawals.get(e.principal) ?? [];
      list.push({ scopes: new Set(e.scopes), at: e.at, until: e.until });
      this.withdrawals.set(e.principal, list);
    }
  }

  /** Why a verified token must be refused, or null. `scopes` are the token's. */
  check(claims: AccessTokenClaims, scopes: readonly string[]): RevokedBecause | null {
    if (this.tokens.has(claims.jti)) return 'token_revoked';
    if (claims.grant !== undefined && this.grants.has(claims.grant)) return 'grant_revoked';
    const withdrawn = this.withdrawals.get(claims.sub);
    if (withdrawn) {
      for (const w of withdrawn) {
        // Whole seconds: a token minted in the second of the reload may predate it.
        if (claims.iat <= w.at && scopes.some((s) => w.scopes.has(s))) return 'scope_withdrawn';
      }
    }
    return null;
  }

  /** Forgets entries every affected token has outlived; returns how many. */
  sweep(nowS: number): number {
    let n = 0;
    for (const map of [this.tokens, this.grants]) {
      for (const [k, until] of map) if (until < nowS) (map.delete(k), n++);
    }
    for (const [p, list] of this.withdrawals) {
      const kept = list.filter((w) => w.until >= nowS);
      n += list.length - kept.length;
      if (kept.length === 0) this.withdrawals.delete(p);
      else this.withdrawals.set(p, kept);
    }
    return n;
  }

  get size(): number {
    let n = this.tokens.size + this.grants.size;
    for (const list of this.withdrawals.values()) n += list.length;
    return n;
  }
}
