import type { Clock } from '../../platform/clock.js';
import type { Transact } from '../../platform/db/transact.js';
import type { RequestContext } from '../../platform/request-context.js';
import type { UserRecord } from '../../identity/index.js';
import type { AdminCaller, AdminTxStores, RevocationPublisher } from './admin-types.js';
import { ADMIN_USER, type AdminAuthorizer } from './authorize-admin.js';
import { beginPrivilegedChange, isLastActiveAdmin, refuseChange, type ChangeRefusal } from './privileged-change.js';

/** Dependencies of changeRoles. */
export interface ChangeRolesDeps {
  clock: Clock;
  transact: Transact<AdminTxStores>;
  revocations: RevocationPublisher;
  authorizer: AdminAuthorizer;
}

function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((role) => b.includes(role));
}

/**
 * PUT /v1/admin/users/{id}/roles. Replaces the account's roles and audits `user.roles.changed`
 * with {before, after} in the same transaction. When a role is taken away, every session of
 * the account is revoked and the revocations published: access tokens carry roles, so a
 * removed privilege must not live on in one for up to its lifetime. A grant alone revokes
 * nothing (nothing stale can be abused); the next refresh carries the new role. Removing
 * `admin` from the last active admin is refused (409), race-free under the roster lock.
 */
export function createChangeRoles(deps: ChangeRolesDeps) {
  return async function changeRoles(caller: AdminCaller, userId: string, roles: readonly string[], ctx: RequestContext): Promise<UserRecord> {
    await deps.authorizer.requireInScope(caller, ADMIN_USER, userId, 'update-roles', ctx);
    const outcome = await deps.transact(async ({ users, sessions, audit }): Promise<ChangeRefusal | { user: UserRecord; revoked: string[] }> => {
      const begun = await beginPrivilegedChange(users, deps.authorizer, caller, 'update-roles', userId);
      if ('kind' in begun) return begun;
      const { target } = begun;
      if (sameRoles(target.roles, roles)) return { user: target, revoked: [] };
      if (!roles.includes('admin') && (await isLastActiveAdmin(users, target))) return { kind: 'last_admin' };
      const at = new Date(deps.clock.nowMs());
      await users.setRoles(target.id, roles, at);
      const removed = target.roles.filter((role) => !roles.includes(role));
      const revoked = removed.length > 0 ? await sessions.revokeUserSessions(target.id, 'roles_changed', at) : [];
      await audit.record({
        type: 'user.roles.changed', outcome: 'success', actor: caller.sub, subject: target.id,
        ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId,
        data: { before: target.roles, after: [...roles], sessionsRevoked: revoked.length },
      });
      return { user: { ...target, roles: [...roles], updatedAt: at }, revoked };
    });
    if ('kind' in outcome) return refuseChange(outcome, deps.authorizer, caller, 'update-roles', ctx);
    // Published after commit, so a rolled-back change never revokes anything.
    const now = deps.clock.nowMs();
    await Promise.all(outcome.revoked.map((id) => deps.revocations.publish(id, now)));
    return outcome.user;
  };
}
