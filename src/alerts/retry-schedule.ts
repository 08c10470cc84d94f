/** How deliveries are retried; see docs/alerts.md. */
export interface RetrySchedule {
  /** Attempts in all, the first included. Default 5. */
  maxAttempts: number;
  /** Wait after the first failed attempt, seconds; it doubles after each further failure. Default 8. */
  baseDelayS: number;
  /** Longest single wait, seconds. Default 300. */
  maxDelayS: number;
  /** Each wait is spread by ± this fraction at random, so receivers that come back are not hit by every sender at once. Default 0.2. */
  jitter: number;
}

/** 5 attempts, waits of about 8, 16, 32 and 64 s: about two minutes from first try to dead letter. */
export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = {
  maxAttempts: 5,
  baseDelayS: 8,
  maxDelayS: 300,
  jitter: 0.2,
};

/**
 * Seconds to wait after failed attempt number `attempt` (1-based) before
 * the next, or null when it was the last. `random` is in [0, 1); passing it
 * in keeps the schedule a pure function.
 */
export function retryDelayS(attempt: number, schedule: RetrySchedule, random: number): number | null {
  if (attempt >= schedule.maxAttempts) return null;
  const base = Math.min(schedule.baseDelayS * 2 ** (attempt - 1), schedule.maxDelayS);
  const spread = 1 - schedule.jitter + 2 * schedule.jitter * random;
  return Math.max(1, Math.round(base * spread));
}
