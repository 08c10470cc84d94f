/** Thresholds of the detectors; see docs/alerts.md. */
export interface DetectorOptions {
  /** Denials of one principal's requests that make a burst. Default 5. */
  denialBurstCount: number;
  /** …within this many seconds. Default 600 (10 min). */
  denialBurstWindowS: number;
  /** Principals and (principal, scope) pairs remembered at most, so memory stays bounded. Default 10000. */
  maxTracked: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  denialBurstCount: 5,
  denialBurstWindowS: 600,
  maxTracked: 10_000,
};
