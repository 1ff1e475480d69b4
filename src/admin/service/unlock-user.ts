import type { Clock } from '../../platform/clock.js';
import type { Transact } from '../../platform/db/transact.js';
import type { RequestContext } from '../../platform/request-context.js';
import type { AdminCaller, AdminTxStores } from './admin-types.js';
import { ADMIN_USER, type AdminAuthorizer } from './authorize-admin.js';
import { beginPrivilegedChange, refuseChange, type ChangeRefusal } from './privileged-change.js';

/** Dependencies of unlockUser. */
export interface UnlockUserDeps {
  clock: Clock;
  transact: Transact<AdminTxStores>;
  authorizer: AdminAuthorizer;
}

/** POST /v1/admin/users/{id}/unlock: the account may log in again; audited `user.unlocked` when it was locked. */
export function createUnlockUser(deps: UnlockUserDeps) {
  return async function unlockUser(caller: AdminCaller, userId: string, ctx: RequestContext): Promise<void> {
    await deps.authorizer.requireInScope(caller, ADMIN_USER, userId, 'unlock', ctx);
    const refusal = await deps.transact(async ({ users, audit }): Promise<ChangeRefusal | undefined> => {
      const begun = await beginPrivilegedChange(users, deps.authorizer, caller, 'unlock', userId);
      if ('kind' in begun) return begun;
      const at = new Date(deps.clock.nowMs());
      if (await users.setLocked(begun.target.id, null, at)) {
        await audit.record({
          type: 'user.unlocked', outcome: 'success', actor: caller.sub, subject: begun.target.id,
          ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId, data: {},
        });
      }
      return undefined;
    });
    if (refusal) await refuseChange(refusal, deps.authorizer, caller, 'unlock', ctx);
  };
}
