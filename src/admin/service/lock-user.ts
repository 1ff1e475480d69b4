import type { Clock } from '../../platform/clock.js';
import type { Transact } from '../../platform/db/transact.js';
import type { RequestContext } from '../../platform/request-context.js';
import type { AdminCaller, AdminTxStores, RevocationPublisher } from './admin-types.js';
import { ADMIN_USER, type AdminAuthorizer } from './authorize-admin.js';
import { beginPrivilegedChange, isLastActiveAdmin, refuseChange, type ChangeRefusal } from './privileged-change.js';

/** Dependencies of lockUser. */
export interface LockUserDeps {
  clock: Clock;
  transact: Transact<AdminTxStores>;
  revocations: RevocationPublisher;
  authorizer: AdminAuthorizer;
}

/**
 * POST /v1/admin/users/{id}/lock. In one transaction: marks the account locked (login then
 * fails exactly like a wrong password, refresh fails), revokes every session, and audits
 * `user.locked`; after commit the revocations are published, so the account's live access
 * tokens stop working on every instance. Locking the last active admin is refused (409).
 * Locking a locked account changes nothing but still ends any session it has.
 */
export function createLockUser(deps: LockUserDeps) {
  return async function lockUser(caller: AdminCaller, userId: string, ctx: RequestContext): Promise<void> {
    await deps.authorizer.requireInScope(caller, ADMIN_USER, userId, 'lock', ctx);
    const outcome = await deps.transact(async ({ users, sessions, audit }): Promise<ChangeRefusal | { revoked: string[] }> => {
      const begun = await beginPrivilegedChange(users, deps.authorizer, caller, 'lock', userId);
      if ('kind' in begun) return begun;
      const { target } = begun;
      if (await isLastActiveAdmin(users, target)) return { kind: 'last_admin' };
      const at = new Date(deps.clock.nowMs());
      const changed = await users.setLocked(target.id, at, at);
      const revoked = await sessions.revokeUserSessions(target.id, 'account_locked', at);
      if (changed || revoked.length > 0) {
        await audit.record({
          type: 'user.locked', outcome: 'success', actor: caller.sub, subject: target.id,
          ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId, data: { sessionsRevoked: revoked.length, wasLocked: !changed },
        });
      }
      return { revoked };
    });
    if ('kind' in outcome) return refuseChange(outcome, deps.authorizer, caller, 'lock', ctx);
    const now = deps.clock.nowMs();
    await Promise.all(outcome.revoked.map((id) => deps.revocations.publish(id, now)));
  };
}
