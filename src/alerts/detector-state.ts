/**
 * What detectors remember between events. Detectors never change a state
 * they are given; they return the next one. It lives in memory, per node:
 * a restart forgets open bursts and which first uses were already reported,
 * which costs at most one repeated alert.
 */
export interface DetectorState {
  /** Per principal: recent denials (epoch ms, oldest first) and the open burst, if any. */
  denials: ReadonlyMap<string, DenialTrack>;
  /** `principal scope` pairs already reported as first use. */
  firstUseReported: ReadonlySet<string>;
}

export interface DenialTrack {
  /** Denials not yet part of a reported burst, inside the window. */
  recent: readonly number[];
  /** Last denial of the burst already reported; a burst stays open until a whole window passes without a denial. */
  burstLastMs: number | null;
}

export function emptyDetectorState(): DetectorState {
  return { denials: new Map(), firstUseReported: new Set() };
}
