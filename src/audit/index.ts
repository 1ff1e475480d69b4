/** Public surface of the audit module. */
import type { AuditEventInput } from './service/record-audit-event.js';

export type { AuditEventInput } from './service/record-audit-event.js';
export { createRecordAuditEvent } from './service/record-audit-event.js';
export type { ChainVerification } from './service/verify-audit-chain.js';
export { verifyAuditChain } from './service/verify-audit-chain.js';
export { createSealAuditChain, type SealOutcome } from './service/seal-audit-chain.js';
export { createRelayAuditEvents, type RelayOutcome } from './service/relay-audit-events.js';
export { createAuditSealer, type AuditSealer } from './service/audit-sealer.js';
export { sealIntervalMs } from './service/seal-interval.js';
export { registerAuditBacklogGauges } from './service/audit-backlog-gauges.js';
export { createAuditGroupCommit, type AuditGroupCommit } from './service/audit-group-commit.js';
export { auditEventView, type AuditEventView } from './service/audit-event-view.js';
export type { AuditEventRecord, AuditStore, StoredAuditEvent, UnsealedAuditEvent } from './store/audit-store.js';
export type { AuditRelayStore } from './store/audit-relay-store.js';
export { createKyselyAuditStore } from './store/kysely-audit-store.js';
export { createKyselyAuditRelayStore } from './store/kysely-audit-relay-store.js';
export { createQueryAuditEvents, type AuditEventPage, type AuditEventQuery } from './service/query-audit-events.js';
export type { AuditEventFilter, AuditQueryStore, QueriedAuditEvent } from './store/audit-query.js';
export { createKyselyAuditQuery } from './store/kysely-audit-query.js';

/** A transaction-bound audit log handed to other modules' services. */
export interface AuditLog {
  /** Records one event in the same transaction as the change it describes. */
  record(input: AuditEventInput): Promise<void>;
}
