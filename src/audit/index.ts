/** Public surface of the audit module. */
import type { AuditEventInput } from './service/record-audit-event.js';

export type { AuditEventInput } from './service/record-audit-event.js';
export { createRecordAuditEvent } from './service/record-audit-event.js';
export type { ChainVerification } from './service/verify-audit-chain.js';
export { verifyAuditChain } from './service/verify-audit-chain.js';
export type { AuditStore, StoredAuditEvent } from './store/audit-store.js';
export { createKyselyAuditStore } from './store/kysely-audit-store.js';

/** A transaction-bound audit log handed to other modules' services. */
export interface AuditLog {
  /** Records one event in the same transaction as the change it describes. */
  record(input: AuditEventInput): Promise<void>;
}
