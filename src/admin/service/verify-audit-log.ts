import type { ChainVerification } from '../../audit/index.js';
import type { RequestContext } from '../../platform/request-context.js';
import type { AdminCaller } from './admin-types.js';
import { ADMIN_AUDIT_EVENT, type AdminAuthorizer } from './authorize-admin.js';

/** Dependencies of verifyAuditLog. */
export interface VerifyAuditLogDeps {
  authorizer: AdminAuthorizer;
  verifyChain: () => Promise<ChainVerification>;
}

/** GET /v1/admin/audit-events/verify: the audit module's chain check, for callers allowed to `verify`. */
export function createVerifyAuditLog(deps: VerifyAuditLogDeps) {
  return async function verifyAuditLog(caller: AdminCaller, ctx: RequestContext): Promise<ChainVerification> {
    await deps.authorizer.requireInScope(caller, ADMIN_AUDIT_EVENT, 'all', 'verify', ctx);
    return deps.verifyChain();
  };
}
