import type { ExpiringSet } from '../../platform/kv/expiring-set.js';
import type { TokenOptions } from './token-types.js';

/** Session revocations as the request path sees them: a local, synchronous membership test. */
export interface SessionRevocations {
  /** True when access tokens of this session must be refused. */
  isRevoked(sessionId: string): boolean;
  /** Publishes a revocation to every instance; kept until any token of the session has expired. */
  publish(sessionId: string, revokedAtMs: number): Promise<void>;
}

/** Wraps the shared expiring set; a revocation lives one access-token lifetime plus skew, after which no token of the session can verify. */
export function createSessionRevocations(set: ExpiringSet, options: Pick<TokenOptions, 'accessTtlSeconds' | 'clockSkewSeconds'>): SessionRevocations {
  const lifetimeMs = (options.accessTtlSeconds + options.clockSkewSeconds) * 1000;
  return {
    isRevoked: (sessionId) => set.has(`sid:${sessionId}`),
    publish: (sessionId, revokedAtMs) => set.add(`sid:${sessionId}`, revokedAtMs + lifetimeMs),
  };
}
