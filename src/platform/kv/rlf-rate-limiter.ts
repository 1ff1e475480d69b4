import { RateLimiterMemory, type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { LimiterState, RateLimiter, RateLimiterFactory, RateLimiterOptions } from './rate-limiter.js';

function toState(res: RateLimiterRes, points: number): LimiterState {
  return {
    consumed: res.consumedPoints,
    remaining: Math.max(0, res.remainingPoints),
    msBeforeNext: Math.max(0, res.msBeforeNext),
    limited: res.consumedPoints > points,
  };
}

/** Adapts any rate-limiter-flexible limiter to our port (rejections become `limited` results, not exceptions). */
export function wrapRateLimiterFlexible(limiter: RateLimiterAbstract, options: RateLimiterOptions): RateLimiter {
  return {
    points: options.points,
    durationSeconds: options.durationSeconds,
    async consume(key, points = 1) {
      try {
        return toState(await limiter.consume(key, points), options.points);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return toState(rejection, options.points);
        throw rejection;
      }
    },
    async get(key) {
      const res = await limiter.get(key);
      return res ? toState(res, options.points) : undefined;
    },
    async block(key, seconds) {
      await limiter.block(key, seconds);
    },
    async delete(key) {
      await limiter.delete(key);
    },
  };
}

/** In-process limiters for embedded mode. */
export const memoryRateLimiterFactory: RateLimiterFactory = (options) =>
  wrapRateLimiterFlexible(
    new RateLimiterMemory({ keyPrefix: options.keyPrefix, points: options.points, duration: options.durationSeconds }),
    options,
  );
