import type { RateLimiterFactory } from '../../platform/kv/rate-limiter.js';
import { type LimitRefusal, secondsFromMs } from './limit-decision.js';

/** Per-subject limit on authenticated requests. */
export interface RequestLimiter {
  /** Counts one request for `subject`; refusal when over the limit. */
  consume(subject: string): Promise<LimitRefusal | undefined>;
}

/** Builds the authenticated-request limiter (rateLimit.authenticated). */
export function createRequestLimiter(limiters: RateLimiterFactory, rule: { points: number; durationSeconds: number }): RequestLimiter {
  const limiter = limiters({ keyPrefix: 'req:sub', points: rule.points, durationSeconds: rule.durationSeconds });
  return {
    async consume(subject) {
      const state = await limiter.consume(subject);
      if (!state.limited) return undefined;
      return { limiter: 'authenticated', retryAfterSeconds: secondsFromMs(state.msBeforeNext), quota: rule.points, windowSeconds: rule.durationSeconds };
    },
  };
}
