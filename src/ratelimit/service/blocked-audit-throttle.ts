import { LRUCache } from 'lru-cache';

/**
 * Decides which refusals get an audit event: the first per limiter and key in each block window.
 * Every refusal is still counted in metrics; auditing each one would let a flood of blocked
 * requests turn into a flood of database writes.
 */
export function createBlockedAuditThrottle(maxKeys = 10_000) {
  const recent = new LRUCache<string, true>({ max: maxKeys });
  return function shouldAudit(limiter: string, key: string, retryAfterSeconds: number): boolean {
    const id = `${limiter}|${key}`;
    if (recent.has(id)) return false;
    recent.set(id, true, { ttl: Math.min(retryAfterSeconds, 3600) * 1000 });
    return true;
  };
}
