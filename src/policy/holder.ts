import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { EventEmitter } from 'node:events';
import type { Policy, PolicyIssue } from './types.js';
import { loadPolicyFile } from './load.js';

export interface ReloadResult {
  ok: boolean;
  changed: boolean;
  hash: string | null;
  issues: PolicyIssue[];
}

/**
 * Holds the policy in force. A reload that finds errors is refused and the
 * old policy stays; readers always call `current` at the moment of a check so
 * a new policy takes effect for every later check at once.
 */
export class PolicyHolder extends EventEmitter<{ reloaded: [Policy, Policy]; refused: [PolicyIssue[]] }> {
  private policy: Policy;
  private watcher: FSWatcher | null = null;
  private pending: NodeJS.Timeout | null = null;
  private reloading: Promise<ReloadResult> | null = null;
  private transform: (p: Policy) => Policy = (p) => p;

  constructor(
    readonly path: string | null,
    initial: Policy,
    private readonly nowS: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    super();
    this.policy = initial;
  }

  get current(): Policy {
    return this.policy;
  }

  /**
   * Derives what the server adds to every loaded policy (its own API as a
   * resource); applied now and to every later load.
   */
  setTransform(fn: (p: Policy) => Policy): void {
    this.transform = fn;
    this.policy = fn(this.policy);
  }

  /** Replaces the policy directly (tests, embedded use). */
  replace(next: Policy): void {
    const prev = this.policy;
    this.policy = this.transform(next);
    if (prev.hash !== next.hash) this.emit('reloaded', this.policy, prev);
  }

  /** Re-reads the file; concurrent calls share one read. */
  reload(): Promise<ReloadResult> {
    if (!this.path) return Promise.resolve({ ok: false, changed: false, hash: null, issues: [] });
    this.reloading ??= this.doReload().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  private async doReload(): Promise<ReloadResult> {
    const { policy, issues } = await loadPolicyFile(this.path!, { now: this.nowS() });
    if (!policy) {
      this.emit('refused', issues);
      return { ok: false, changed: false, hash: null, issues };
    }
    const changed = policy.hash !== this.policy.hash;
    if (changed) this.replace(policy);
    return { ok: true, changed, hash: policy.hash, issues };
  }

  /** Reloads when the file changes; editors write in bursts, so changes are debounced. */
  watch(debounceMs = 200): void {
    if (!this.path || this.watcher) return;
    // Watch the folder, not the file: editors save by renaming a new file over
    // the old one, which ends a watch on the old inode.
    const name = basename(this.path);
    this.watcher = watch(dirname(this.path), (_event, file) => {
      if (file !== null && file !== name) return;
      if (this.pending) clearTimeout(this.pending);
      this.pending = setTimeout(() => {
        this.pending = null;
        void this.reload();
      }, debounceMs);
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.pending) clearTimeout(this.pending);
  }
}
