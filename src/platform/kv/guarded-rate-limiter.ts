import { DependencyUnavailableError } from '../errors/dependency-unavailable.js';
import type { RateLimiter, RateLimiterFactory } from './rate-limiter.js';

/** What the guard needs to know about the store behind the limiters. */
export interface RateLimiterGuardOptions {
  /** True while the store (Redis) is connected; read on every call, so keep it cheap. */
  isAvailable(): boolean;
  /**
   * Fail closed: while the store is unavailable every call rejects with a
   * DependencyUnavailableError (the error handler answers 503 with Retry-After) instead of being
   * answered by the in-process insurance limiter.
   */
  failClosed: boolean;
  /** Counts a call answered while the store is unavailable (by the insurance limiter). */
  onFallback?: () => void;
}

/**
 * Wraps a Redis-backed limiter factory with the outage policy. Fail open (the default): calls
 * pass through (the factory's insurance limiter answers them, per instance) and are counted.
 * Fail closed: calls are refused while Redis is down, and a call that fails on the way (timeout,
 * dropped connection) is refused the same way rather than becoming a 500.
 */
export function guardRateLimiterFactory(factory: RateLimiterFactory, options: RateLimiterGuardOptions): RateLimiterFactory {
  const { isAvailable, failClosed, onFallback } = options;
  /** The slow path: the store is down, or fail-closed wants every failure turned into a 503. */
  async function degraded<R>(call: () => Promise<R>): Promise<R> {
    if (!isAvailable()) {
      if (failClosed) throw new DependencyUnavailableError('redis');
      onFallback?.();
      return call();
    }
    try {
      return await call();
    } catch (error) {
      throw new DependencyUnavailableError('redis', { cause: error });
    }
  }
  return (limiterOptions) => {
    const inner = factory(limiterOptions);
    // Healthy and fail-open: straight through, no closure (consume runs on every authenticated request).
    const direct = () => !failClosed && isAvailable();
    const guarded: RateLimiter = {
      points: inner.points,
      durationSeconds: inner.durationSeconds,
      consume: (key, points) => (direct() ? inner.consume(key, points) : degraded(() => inner.consume(key, points))),
      get: (key) => (direct() ? inner.get(key) : degraded(() => inner.get(key))),
      block: (key, seconds) => (direct() ? inner.block(key, seconds) : degraded(() => inner.block(key, seconds))),
      delete: (key) => (direct() ? inner.delete(key) : degraded(() => inner.delete(key))),
    };
    return guarded;
  };
}
