import { commonProblems } from '../../platform/errors/common-problems.js';
import { ProblemError } from '../../platform/errors/problem.js';
import type { Clock } from '../../platform/clock.js';
import type { RequestContext } from '../../platform/request-context.js';
import { checkResource, type Decision, type PolicySet, type Principal, type Resource } from '../../policy/index.js';
import type { AdminCaller } from './admin-types.js';

/** Resource kinds of the shipped admin policies (policies/portcullis-admin-*.yaml). */
export const ADMIN_USER = 'admin:user';
export const ADMIN_AUDIT_EVENT = 'admin:audit-event';

/** Actions the shipped admin policies name. */
export type AdminAction = 'list' | 'read' | 'update-roles' | 'lock' | 'unlock' | 'revoke-sessions' | 'verify';

/** A refusal worth an audit entry. */
export interface AdminDenial {
  caller: AdminCaller;
  resource: Resource;
  action: AdminAction;
  decision: Decision;
  ctx: RequestContext;
}

/** Dependencies of the admin authorizer. */
export interface AdminAuthorizerDeps {
  policies: { current(): PolicySet };
  clock: Clock;
  /** Records a refusal as `policy.denied`, in its own transaction. */
  recordDenial(denial: AdminDenial): Promise<void>;
}

/** Decides admin actions through the policy engine; the caller's tenant travels as `principal.attr.tenant`. */
export type AdminAuthorizer = ReturnType<typeof createAdminAuthorizer>;

function principalOf(caller: AdminCaller): Principal {
  return { id: caller.sub, roles: caller.roles, ...(caller.tenant ? { attr: { tenant: caller.tenant } } : {}) };
}

// A null tenant is a global account: the attribute is left out, so `has(resource.attr.tenant)` is false.
function resourceOf(kind: string, id: string, tenant: string | null | undefined): Resource {
  return { kind, id, ...(tenant ? { attr: { tenant } } : {}) };
}

/** Builds the authorizer every admin service asks before it reads or changes anything. */
export function createAdminAuthorizer(deps: AdminAuthorizerDeps) {
  function decide(caller: AdminCaller, resource: Resource, action: AdminAction): Decision {
    const decisions = checkResource(deps.policies.current(), { principal: principalOf(caller), resource, actions: [action], request: { timeMs: deps.clock.nowMs() } });
    return decisions[action]!;
  }

  return {
    /**
     * Throws 403 (audited) unless the caller may do `action` on a resource of its own scope:
     * its tenant, or the whole installation for a global admin. Asked before anything is read,
     * so a caller without the privilege learns nothing, not even whether an account exists.
     */
    async requireInScope(caller: AdminCaller, kind: string, id: string, action: AdminAction, ctx: RequestContext): Promise<void> {
      const resource = resourceOf(kind, id, caller.tenant);
      const decision = decide(caller, resource, action);
      if (decision.allow) return;
      await deps.recordDenial({ caller, resource, action, decision, ctx });
      throw new ProblemError(commonProblems.FORBIDDEN, { detail: 'The caller may not perform this administrative action.' });
    },

    /** The decision for `action` on one account, with that account's own tenant. */
    decideOnUser(caller: AdminCaller, action: AdminAction, user: { id: string; tenant: string | null }): Decision {
      return decide(caller, resourceOf(ADMIN_USER, user.id, user.tenant), action);
    },

    /** Records a refusal decided elsewhere (e.g. inside a transaction that was then rolled back). */
    recordDenial: (denial: AdminDenial): Promise<void> => deps.recordDenial(denial),

    /** The resource an account is, as the policies see it. */
    userResource: (user: { id: string; tenant: string | null }): Resource => resourceOf(ADMIN_USER, user.id, user.tenant),
  };
}
