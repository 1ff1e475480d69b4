import type { Clock } from '../clock.js';
import type { ExpiringSet } from './expiring-set.js';
import { createExpiryMirror } from './expiry-mirror.js';

/** In-process ExpiringSet for embedded mode; expired members are swept lazily and on a timer. */
export function createMemoryExpiringSet(clock: Clock, sweepEveryMs = 60_000): ExpiringSet {
  const mirror = createExpiryMirror(clock);
  const timer = setInterval(mirror.sweep, sweepEveryMs);
  timer.unref();
  return {
    async add(member, expiresAtMs) {
      mirror.merge(member, expiresAtMs);
    },
    has: (member) => mirror.has(member),
    size: () => mirror.size(),
    async close() {
      clearInterval(timer);
    },
  };
}
