import type { Clock } from '../clock.js';

/** Members with expiry times, judged by an injected clock: the local half of every ExpiringSet. */
export interface ExpiryMirror {
  /** Records `member` until `expiresAtMs`; an earlier expiry never shortens a later one. */
  merge(member: string, expiresAtMs: number): void;
  /** True while `member` is present and unexpired; drops it lazily once expired. */
  has(member: string): boolean;
  /** Drops every expired member. */
  sweep(): void;
  /** Live members after a sweep. */
  size(): number;
}

/** An in-memory mirror over a Map; synchronous, so the request path never waits. */
export function createExpiryMirror(clock: Clock): ExpiryMirror {
  const members = new Map<string, number>();
  const sweep = () => {
    const now = clock.nowMs();
    for (const [member, expiresAt] of members) if (expiresAt <= now) members.delete(member);
  };
  return {
    merge(member, expiresAtMs) {
      const current = members.get(member);
      if (current === undefined || expiresAtMs > current) members.set(member, expiresAtMs);
    },
    has(member) {
      const expiresAt = members.get(member);
      if (expiresAt === undefined) return false;
      if (expiresAt > clock.nowMs()) return true;
      members.delete(member);
      return false;
    },
    sweep,
    size() {
      sweep();
      return members.size;
    },
  };
}
