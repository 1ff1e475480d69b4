import type { AuditEventQuery, ChainVerification } from '../../audit/index.js';
import type { UserStore } from '../../identity/index.js';
import type { Transact } from '../../platform/db/transact.js';
import type { AdminTxStores, RevocationPublisher } from './admin-types.js';
import { createAdminAuthorizer, type AdminAuthorizerDeps } from './authorize-admin.js';
import { createChangeRoles } from './change-roles.js';
import { createCreateAdmin, type CreateAdminDeps } from './create-admin.js';
import { createCursorCodec } from './cursor-codec.js';
import { createListAuditEvents } from './list-audit-events.js';
import { createListUsers } from './list-users.js';
import { createLockUser } from './lock-user.js';
import { createRevokeUserSessions } from './revoke-user-sessions.js';
import { createUnlockUser } from './unlock-user.js';
import { createVerifyAuditLog } from './verify-audit-log.js';

/** What the admin module needs from the composition root. */
export interface AdminServicesDeps extends AdminAuthorizerDeps, Omit<CreateAdminDeps, 'transact'> {
  /** Pagination cursors are authenticated with a key derived from it. */
  masterKey: Buffer;
  users: Pick<UserStore, 'listUsers'>;
  transact: Transact<AdminTxStores> & CreateAdminDeps['transact'];
  revocations: RevocationPublisher;
  auditQuery: AuditEventQuery;
  verifyAuditChain: () => Promise<ChainVerification>;
  /** Seals committed audit events, so listings include them. */
  sealAuditEvents: () => Promise<unknown>;
  /** Audit rows read per batch by the NDJSON export. */
  streamBatchSize?: number;
}

/** Wires every admin service over one authorizer and one cursor codec. */
export function createAdminServices(deps: AdminServicesDeps) {
  const authorizer = createAdminAuthorizer(deps);
  const cursors = createCursorCodec(deps.masterKey);
  const writes = { clock: deps.clock, transact: deps.transact, revocations: deps.revocations, authorizer };
  return {
    listUsers: createListUsers({ users: deps.users, authorizer, cursors }),
    changeRoles: createChangeRoles(writes),
    lockUser: createLockUser(writes),
    unlockUser: createUnlockUser(writes),
    revokeUserSessions: createRevokeUserSessions(writes),
    listAuditEvents: createListAuditEvents({ query: deps.auditQuery, authorizer, cursors, streamBatchSize: deps.streamBatchSize ?? 500, sealPending: deps.sealAuditEvents }),
    verifyAuditLog: createVerifyAuditLog({ authorizer, verifyChain: deps.verifyAuditChain }),
    createAdmin: createCreateAdmin(deps),
  };
}

/** The admin services, as the registry exposes them. */
export type AdminServices = ReturnType<typeof createAdminServices>;
