import type { Clock } from '../../platform/clock.js';
import type { Transact } from '../../platform/db/transact.js';
import type { RequestContext } from '../../platform/request-context.js';
import { hashRefreshToken, isWellFormedRefreshToken } from './refresh-token-secret.js';
import type { SessionRevocations } from './revocation.js';
import type { AccessClaims, TokenTxStores } from './token-types.js';

/** Dependencies of endSession. */
export interface EndSessionDeps { clock: Clock; transact: Transact<TokenTxStores>; revocations: SessionRevocations }

/**
 * Logout: revokes the bearer's session, and the session of a presented refresh token when it
 * belongs to the same user; every instance refuses the session's tokens once this resolves.
 */
export function createEndSession(deps: EndSessionDeps) {
  return async function endSession(principal: AccessClaims, refreshToken: string | undefined, ctx: RequestContext): Promise<void> {
    const revoked = await deps.transact(async ({ sessions, audit }) => {
      const at = new Date(deps.clock.nowMs());
      const ids = new Set([principal.sid]);
      if (refreshToken && isWellFormedRefreshToken(refreshToken)) {
        const result = await sessions.consumeRefreshToken(hashRefreshToken(refreshToken), at);
        // Someone else's refresh token is ignored, not revoked: logout must not become a way to end other users' sessions.
        if (result.status !== 'unknown' && result.token.userId === principal.sub) ids.add(result.token.sessionId);
      }
      for (const id of ids) await sessions.revokeSession(id, 'logout', at);
      await audit.record({
        type: 'auth.logout', outcome: 'success', actor: principal.sub, subject: principal.sid,
        ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId, data: { sessionIds: [...ids] },
      });
      return [...ids];
    });
    const now = deps.clock.nowMs();
    await Promise.all(revoked.map((id) => deps.revocations.publish(id, now)));
  };
}
