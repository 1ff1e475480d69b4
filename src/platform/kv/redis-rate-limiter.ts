import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { RateLimiterFactory } from './rate-limiter.js';
import type { RedisClient } from './redis-connection.js';
import { wrapRateLimiterFlexible } from './rlf-rate-limiter.js';

/** Choices of the Redis limiter factory. */
export interface RedisRateLimiterFactoryOptions {
  /**
   * When Redis fails (down, timed out), answer from an in-process limiter with the same points and
   * duration instead of throwing. Each instance then counts alone, so during an outage a client
   * gets up to `points` per instance rather than in total: weaker, but still a limit, and requests
   * keep flowing. Without it the calls reject and the caller decides.
   */
  insuranceLimiter?: boolean;
}

/**
 * Redis-backed limiters for distributed mode: rate-limiter-flexible's `RateLimiterRedis`, whose
 * consume is one Lua script (SET NX EX + INCRBY + PTTL), so concurrent calls from any number of
 * instances count exactly. Keys are `<connection prefix><keyPrefix>:<key>` with a TTL of the window.
 * Every command touches one key, so a Redis Cluster connection works unchanged (the library routes
 * its script by that key).
 */
export function createRedisRateLimiterFactory(client: RedisClient, factoryOptions: RedisRateLimiterFactoryOptions = {}): RateLimiterFactory {
  return (options) => {
    // The library writes Redis TTLs in whole seconds (`EX floor(ms / 1000)`) and stores the key
    // with no expiry at all when that floors to 0: a sub-second window would count for ever.
    if (!Number.isInteger(options.durationSeconds) || options.durationSeconds < 1) {
      throw new RangeError(`rate limiter "${options.keyPrefix}": durationSeconds must be a whole number >= 1 on Redis`);
    }
    const common = { keyPrefix: options.keyPrefix, points: options.points, duration: options.durationSeconds };
    const limiter = new RateLimiterRedis({
      ...common,
      storeClient: client,
      useRedisPackage: false,
      // Fail over to the insurance at once when the connection is not ready, rather than issuing a
      // command bound to fail (our connections already reject instead of queueing; this also holds
      // for a client configured otherwise).
      rejectIfRedisNotReady: true,
      ...(factoryOptions.insuranceLimiter ? { insuranceLimiter: new RateLimiterMemory(common) } : {}),
    });
    const wrapped = wrapRateLimiterFlexible(limiter, options);
    return {
      ...wrapped,
      async block(key, seconds) {
        // Same whole-second TTL quirk as above: `block(key, 0.5)` would become a permanent block.
        // Round up, so a block lasts at least what was asked and always ends.
        if (!(seconds > 0) || !Number.isFinite(seconds)) throw new RangeError('block seconds must be a positive finite number');
        await wrapped.block(key, Math.ceil(seconds));
      },
    };
  };
}
