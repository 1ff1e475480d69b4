/** Source of the current time; services take it as a dependency so tests control time exactly. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

/** The real wall clock. */
export const systemClock: Clock = { nowMs: () => Date.now() };

/** A clock that only moves when told to, for tests. */
export function createManualClock(startMs = Date.parse('2026-01-01T00:00:00Z')): Clock & { advanceMs(ms: number): void; setMs(ms: number): void } {
  let now = startMs;
  return {
    nowMs: () => now,
    advanceMs(ms) { now += ms; },
    setMs(ms) { now = ms; },
  };
}
