import type { Clock } from '../clock.js';
import type { ExpiringSet } from './expiring-set.js';

/** In-process ExpiringSet for embedded mode; expired members are swept lazily and on a timer. */
export function createMemoryExpiringSet(clock: Clock, sweepEveryMs = 60_000): ExpiringSet {
  const members = new Map<string, number>();
  const sweep = () => {
    const now = clock.nowMs();
    for (const [member, expiresAt] of members) if (expiresAt <= now) members.delete(member);
  };
  const timer = setInterval(sweep, sweepEveryMs);
  timer.unref();
  return {
    async add(member, expiresAtMs) {
      const current = members.get(member) ?? 0;
      if (expiresAtMs > current) members.set(member, expiresAtMs);
    },
    has(member) {
      const expiresAt = members.get(member);
      if (expiresAt === undefined) return false;
      if (expiresAt > clock.nowMs()) return true;
      members.delete(member);
      return false;
    },
    size() {
      sweep();
      return members.size;
    },
    async close() {
      clearInterval(timer);
    },
  };
}
