import type { Clock } from '../../platform/clock.js';
import type { Transact } from '../../platform/db/transact.js';
import { ProblemError } from '../../platform/errors/problem.js';
import type { Random } from '../../platform/random.js';
import type { RequestContext } from '../../platform/request-context.js';
import { tokenProblems } from '../problems.js';
import { hashRefreshToken, isWellFormedRefreshToken, newRefreshToken } from './refresh-token-secret.js';
import type { SessionRevocations } from './revocation.js';
import type { TokenOptions, TokenPair, TokenSubject, TokenTxStores } from './token-types.js';

/** Dependencies of rotateRefreshToken. */
export interface RotateRefreshTokenDeps {
  clock: Clock;
  random: Random;
  options: TokenOptions;
  transact: Transact<TokenTxStores>;
  revocations: SessionRevocations;
  signAccessToken: (subject: TokenSubject, sessionId: string) => Promise<string>;
}

type Outcome =
  | { kind: 'rotated'; pair: TokenPair }
  | { kind: 'refused'; reason: string; revokedSessionId?: string };

/**
 * Spends a refresh token and returns a new pair for the same session. The consume is one
 * atomic UPDATE: under concurrency exactly one caller wins. Any other presentation of a spent
 * token is treated as theft (OAuth 2.0 Security BCP, RFC 9700 4.14.2): the whole session is revoked.
 */
export function createRotateRefreshToken(deps: RotateRefreshTokenDeps) {
  return async function rotateRefreshToken(presented: string, ctx: RequestContext): Promise<TokenPair> {
    if (!isWellFormedRefreshToken(presented)) throw new ProblemError(tokenProblems.INVALID_REFRESH_TOKEN);
    const outcome = await deps.transact(async ({ sessions, audit, subjects }): Promise<Outcome> => {
      const now = deps.clock.nowMs();
      const at = new Date(now);
      const result = await sessions.consumeRefreshToken(hashRefreshToken(presented), at);
      if (result.status === 'unknown') return { kind: 'refused', reason: 'unknown' };
      const { token } = result;
      const auditBase = { actor: token.userId, subject: token.sessionId, ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId };
      if (result.status === 'spent') {
        const revoked = await sessions.revokeSession(token.sessionId, 'refresh_token_reuse', at);
        await audit.record({ ...auditBase, type: 'auth.token.reuse_detected', outcome: 'failure', data: { sessionId: token.sessionId, sessionWasLive: revoked } });
        return { kind: 'refused', reason: 'reuse', revokedSessionId: token.sessionId };
      }
      const session = await sessions.findSession(token.sessionId);
      if (!session || session.revokedAt) return { kind: 'refused', reason: 'session_revoked' };
      if (token.expiresAt.getTime() <= now || session.idleExpiresAt.getTime() <= now || session.absoluteExpiresAt.getTime() <= now) {
        return { kind: 'refused', reason: 'expired' };
      }
      const subject = await subjects.findSubject(token.userId);
      if (!subject || subject.locked) {
        await sessions.revokeSession(session.id, subject ? 'account_locked' : 'account_deleted', at);
        return { kind: 'refused', reason: 'account_inactive', revokedSessionId: session.id };
      }
      const idleExpiresAt = new Date(Math.min(now + deps.options.sessionIdleTtlSeconds * 1000, session.absoluteExpiresAt.getTime()));
      await sessions.touchSession(session.id, at, idleExpiresAt);
      const refreshToken = newRefreshToken(deps.random);
      await sessions.insertRefreshToken({ tokenHash: hashRefreshToken(refreshToken), sessionId: session.id, userId: token.userId, createdAt: at, expiresAt: idleExpiresAt, consumedAt: null });
      await audit.record({ ...auditBase, type: 'auth.token.refreshed', outcome: 'success', data: { sessionId: session.id } });
      const accessToken = await deps.signAccessToken(subject, session.id);
      return { kind: 'rotated', pair: { accessToken, tokenType: 'Bearer', expiresIn: deps.options.accessTtlSeconds, refreshToken } };
    });
    if (outcome.kind === 'rotated') return outcome.pair;
    // Published after commit, so a rolled-back transaction never revokes anything.
    if (outcome.revokedSessionId) await deps.revocations.publish(outcome.revokedSessionId, deps.clock.nowMs());
    throw new ProblemError(tokenProblems.INVALID_REFRESH_TOKEN);
  };
}
