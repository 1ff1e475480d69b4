import type { Clock } from '../../platform/clock.js';
import type { ExpiringSet } from '../../platform/kv/expiring-set.js';
import type { SessionStore } from '../store/session-store.js';
import type { TokenOptions } from './token-types.js';

/** Session revocations as the request path sees them. */
export interface SessionRevocations {
  /**
   * Whether access tokens of this session must be refused. Healthy: a boolean from the local set
   * (synchronous, no allocation, no round trip). While the shared set may be stale (Redis down or
   * not yet re-synced): a promise answered by the database, which is the truth; it rejects when
   * the database cannot answer either (the caller fails closed).
   */
  isRevoked(sessionId: string): boolean | Promise<boolean>;
  /**
   * Publishes a revocation to every instance; kept until any token of the session has expired.
   * With a fallback configured it never rejects for a shared-state failure: the revocation is
   * already committed to the database, other instances consult it while stale, and the set
   * re-publishes it when Redis is back.
   */
  publish(sessionId: string, revokedAtMs: number): Promise<void>;
}

/** How to answer while the shared set cannot be trusted (distributed mode only). */
export interface RevocationFallback {
  /** False while the set may miss revocations made on other instances. Called on every request: keep it cheap. */
  isInSync(): boolean;
  sessions: Pick<SessionStore, 'findSession'>;
  clock: Clock;
  /** How long one database answer is reused for the same session; default 1000 ms. */
  cacheMs?: number;
  /** Counts degraded operations: a check answered by the database, or a publish that did not reach Redis. */
  onFallback?: (component: 'revocation_check' | 'revocation_publish') => void;
  /** A publish that failed (the error, never the token). */
  onError?: (error: unknown) => void;
}

// Bounds the database-answer cache: an outage under heavy traffic must not grow it without limit.
const MAX_CACHED_ANSWERS = 10_000;

const memberOf = (sessionId: string) => `sid:${sessionId}`;
const lifetimeMsOf = (options: Pick<TokenOptions, 'accessTtlSeconds' | 'clockSkewSeconds'>) =>
  (options.accessTtlSeconds + options.clockSkewSeconds) * 1000;

/**
 * Wraps the shared expiring set; a revocation lives one access-token lifetime plus skew, after
 * which no token of the session can verify. With `fallback`, checks made while the set is out of
 * sync read `sessions.revoked_at` instead: one query per session per `cacheMs` at most, concurrent
 * checks of one session sharing it. So a logout on an instance that could not reach Redis is
 * refused everywhere within `cacheMs`.
 */
export function createSessionRevocations(
  set: ExpiringSet,
  options: Pick<TokenOptions, 'accessTtlSeconds' | 'clockSkewSeconds'>,
  fallback?: RevocationFallback,
): SessionRevocations {
  const lifetimeMs = lifetimeMsOf(options);
  if (!fallback) {
    return {
      isRevoked: (sessionId) => set.has(memberOf(sessionId)),
      publish: (sessionId, revokedAtMs) => set.add(memberOf(sessionId), revokedAtMs + lifetimeMs),
    };
  }

  const { isInSync, sessions, clock } = fallback;
  const cacheMs = fallback.cacheMs ?? 1_000;
  const answers = new Map<string, { untilMs: number; revoked: Promise<boolean> }>();

  function evictExpired(now: number): void {
    for (const [sessionId, answer] of answers) if (answer.untilMs <= now) answers.delete(sessionId);
    // Still full of live entries: drop them all (each costs one more query at most).
    if (answers.size >= MAX_CACHED_ANSWERS) answers.clear();
  }

  function askDatabase(sessionId: string): Promise<boolean> {
    fallback!.onFallback?.('revocation_check');
    const now = clock.nowMs();
    const cached = answers.get(sessionId);
    if (cached && cached.untilMs > now) return cached.revoked;
    if (answers.size >= MAX_CACHED_ANSWERS) evictExpired(now);
    // A session the database does not know cannot have issued a valid token: refuse it.
    const revoked = sessions.findSession(sessionId).then((session) => !session || session.revokedAt !== null);
    const entry = { untilMs: now + cacheMs, revoked };
    answers.set(sessionId, entry);
    // A failed query is not an answer: forget it so the next check asks again.
    revoked.catch(() => { if (answers.get(sessionId) === entry) answers.delete(sessionId); });
    return revoked;
  }

  return {
    isRevoked(sessionId) {
      // A revocation this instance already knows needs no query, in sync or not.
      if (set.has(memberOf(sessionId))) return true;
      return isInSync() ? false : askDatabase(sessionId);
    },
    async publish(sessionId, revokedAtMs) {
      try {
        await set.add(memberOf(sessionId), revokedAtMs + lifetimeMs);
      } catch (error) {
        fallback.onFallback?.('revocation_publish');
        fallback.onError?.(error);
      }
    },
  };
}

/**
 * The revocations the database holds that could still matter (revoked within one access-token
 * lifetime plus skew), as expiring-set members: what the shared set re-publishes after a reconnect.
 */
export function createRevocationReconciler(deps: {
  sessions: Pick<SessionStore, 'listRevokedSince'>;
  clock: Clock;
  options: Pick<TokenOptions, 'accessTtlSeconds' | 'clockSkewSeconds'>;
}): () => Promise<Array<readonly [string, number]>> {
  const lifetimeMs = lifetimeMsOf(deps.options);
  return async () => {
    const horizon = new Date(deps.clock.nowMs() - lifetimeMs);
    const revoked = await deps.sessions.listRevokedSince(horizon);
    return revoked.map(({ id, revokedAt }) => [memberOf(id), revokedAt.getTime() + lifetimeMs] as const);
  };
}
