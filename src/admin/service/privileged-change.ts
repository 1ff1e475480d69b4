import { commonProblems } from '../../platform/errors/common-problems.js';
import { ProblemError } from '../../platform/errors/problem.js';
import type { RequestContext } from '../../platform/request-context.js';
import { identityProblems, type UserRecord } from '../../identity/index.js';
import type { Decision } from '../../policy/index.js';
import { adminProblems } from '../problems.js';
import type { AdminCaller, AdminTxStores } from './admin-types.js';
import type { AdminAction, AdminAuthorizer } from './authorize-admin.js';

/** Why a privileged change did not happen; decided inside the transaction, thrown after it. */
export type ChangeRefusal =
  | { kind: 'missing' }
  | { kind: 'hidden'; target: UserRecord; decision: Decision }
  | { kind: 'stale_actor'; target: UserRecord; decision: Decision }
  | { kind: 'last_admin' };

/**
 * Opens a privileged change on one account, inside the caller's transaction: takes the admin
 * roster lock (so last-admin checks cannot interleave), reads the target fresh, and authorizes
 * twice. First against the target's tenant: an account of another tenant answers exactly like
 * a missing one, so its existence does not leak. Then against the actor's stored account rather
 * than the token: an admin demoted or locked a moment ago, whose token may still verify on
 * another node until the revocation arrives, can no longer act.
 */
export async function beginPrivilegedChange(
  users: AdminTxStores['users'], authorizer: AdminAuthorizer, caller: AdminCaller, action: AdminAction, userId: string,
): Promise<{ target: UserRecord } | ChangeRefusal> {
  await users.lockAdminRoster();
  const target = await users.findById(userId);
  if (!target) return { kind: 'missing' };
  const onTarget = authorizer.decideOnUser(caller, action, target);
  if (!onTarget.allow) return { kind: 'hidden', target, decision: onTarget };
  const actor = await users.findById(caller.sub);
  const asStored: AdminCaller = actor && !actor.lockedAt
    ? { sub: actor.id, roles: actor.roles, ...(actor.tenant ? { tenant: actor.tenant } : {}) }
    : { sub: caller.sub, roles: [] };
  const byStoredActor = authorizer.decideOnUser(asStored, action, target);
  if (!byStoredActor.allow) return { kind: 'stale_actor', target, decision: byStoredActor };
  return { target };
}

/** True when the account is an unlocked admin and no other unlocked admin could still administer its tenant. */
export async function isLastActiveAdmin(users: AdminTxStores['users'], target: UserRecord): Promise<boolean> {
  if (!target.roles.includes('admin') || target.lockedAt !== null) return false;
  return (await users.countActiveAdmins({ tenant: target.tenant, excludeId: target.id })) === 0;
}

/** Turns a refusal into its problem, auditing the ones that are authorization denials. */
export async function refuseChange(
  refusal: ChangeRefusal, authorizer: AdminAuthorizer, caller: AdminCaller, action: AdminAction, ctx: RequestContext,
): Promise<never> {
  switch (refusal.kind) {
    case 'missing':
      throw new ProblemError(identityProblems.USER_NOT_FOUND);
    case 'hidden':
      await authorizer.recordDenial({ caller, resource: authorizer.userResource(refusal.target), action, decision: refusal.decision, ctx });
      throw new ProblemError(identityProblems.USER_NOT_FOUND);
    case 'stale_actor':
      await authorizer.recordDenial({ caller, resource: authorizer.userResource(refusal.target), action, decision: refusal.decision, ctx });
      throw new ProblemError(commonProblems.FORBIDDEN, { detail: 'The caller no longer holds this privilege.' });
    case 'last_admin':
      throw new ProblemError(adminProblems.LAST_ADMIN, { detail: 'Another active administrator must exist first.' });
  }
}
