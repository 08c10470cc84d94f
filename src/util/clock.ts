/**
 * Time comes from a clock passed in, never from Date.now() deep inside logic,
 * so tests freeze and move it instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** Whole seconds since the epoch, the unit of JWT and stored instants. */
export function nowS(clock: Clock): number {
  return Math.floor(clock.nowMs() / 1000);
}

/** A clock that stands still until moved; for tests and benchmarks. */
export class FrozenClock implements Clock {
  constructor(private ms: number) {}
  nowMs(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}
