/** Result of a limiter call, in the units rate-limiter-flexible reports. */
export interface LimiterState {
  /** Points consumed in the current window, including this call. */
  consumed: number;
  /** Points left before the limit (0 when blocked). */
  remaining: number;
  /** Milliseconds until the window resets or the block ends. */
  msBeforeNext: number;
  /** True when this call (or the key) is over the limit. */
  limited: boolean;
}

/** A fixed-window limiter over one key space. Backed by rate-limiter-flexible so memory and Redis behave the same. */
export interface RateLimiter {
  readonly points: number;
  readonly durationSeconds: number;
  /** Atomically counts `points` against `key` and reports whether the key is now over the limit. */
  consume(key: string, points?: number): Promise<LimiterState>;
  /** Reads the key without counting; undefined when the key has no record. */
  get(key: string): Promise<LimiterState | undefined>;
  /** Blocks `key` for `seconds` regardless of its count. */
  block(key: string, seconds: number): Promise<void>;
  /** Forgets `key` (e.g. after a successful login). */
  delete(key: string): Promise<void>;
}

/** What a limiter is configured with. */
export interface RateLimiterOptions {
  /** Namespaces keys; must be unique per limiter. */
  keyPrefix: string;
  points: number;
  durationSeconds: number;
}

/** Creates limiters; the registry picks the memory or the Redis factory. */
export type RateLimiterFactory = (options: RateLimiterOptions) => RateLimiter;
