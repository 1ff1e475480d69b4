import type { Clock } from '../../platform/clock.js';
import type { Transact } from '../../platform/db/transact.js';
import type { RequestContext } from '../../platform/request-context.js';
import type { AdminCaller, AdminTxStores, RevocationPublisher } from './admin-types.js';
import { ADMIN_USER, type AdminAuthorizer } from './authorize-admin.js';
import { beginPrivilegedChange, refuseChange, type ChangeRefusal } from './privileged-change.js';

/** Dependencies of revokeUserSessions. */
export interface RevokeUserSessionsDeps {
  clock: Clock;
  transact: Transact<AdminTxStores>;
  revocations: RevocationPublisher;
  authorizer: AdminAuthorizer;
}

/**
 * DELETE /v1/admin/users/{id}/sessions: every live session of the account is revoked (its
 * refresh tokens die with it) and audited `user.sessions.revoked`; after commit the
 * revocations are published so its access tokens stop on every instance.
 */
export function createRevokeUserSessions(deps: RevokeUserSessionsDeps) {
  return async function revokeUserSessions(caller: AdminCaller, userId: string, ctx: RequestContext): Promise<void> {
    await deps.authorizer.requireInScope(caller, ADMIN_USER, userId, 'revoke-sessions', ctx);
    const outcome = await deps.transact(async ({ users, sessions, audit }): Promise<ChangeRefusal | { revoked: string[] }> => {
      const begun = await beginPrivilegedChange(users, deps.authorizer, caller, 'revoke-sessions', userId);
      if ('kind' in begun) return begun;
      const revoked = await sessions.revokeUserSessions(begun.target.id, 'admin_revoked', new Date(deps.clock.nowMs()));
      await audit.record({
        type: 'user.sessions.revoked', outcome: 'success', actor: caller.sub, subject: begun.target.id,
        ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId, data: { sessionsRevoked: revoked.length },
      });
      return { revoked };
    });
    if ('kind' in outcome) return refuseChange(outcome, deps.authorizer, caller, 'revoke-sessions', ctx);
    const now = deps.clock.nowMs();
    await Promise.all(outcome.revoked.map((id) => deps.revocations.publish(id, now)));
  };
}
