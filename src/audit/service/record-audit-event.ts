import type { Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import { redactSecrets } from '../../platform/observability/redact.js';
import type { AuditEventRecord, AuditStore } from '../store/audit-store.js';

/** What a module reports; ids and time are added here, the chain later by the sealer. */
export interface AuditEventInput {
  type: string;
  outcome: 'success' | 'failure' | 'blocked';
  actor?: string | null;
  subject?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
  data?: Record<string, unknown>;
}

/** Dependencies of recordAuditEvent. */
export interface RecordAuditEventDeps { clock: Clock; ids: IdGenerator }

/**
 * Writes one unsealed event inside the caller's transaction (the outbox: it commits or rolls back
 * with the change it records). It takes no lock and reads nothing, so audited transactions never
 * wait for each other; secrets are redacted before the row is written.
 */
export function createRecordAuditEvent(deps: RecordAuditEventDeps) {
  return async function recordAuditEvent(store: AuditStore, input: AuditEventInput): Promise<AuditEventRecord> {
    const event: AuditEventRecord = {
      id: deps.ids.next(),
      // Millisecond precision survives the timestamptz round trip, so the sealer hashes what was written.
      time: new Date(deps.clock.nowMs()),
      type: input.type,
      actor: input.actor ?? null,
      subject: input.subject ?? null,
      ip: input.ip ?? null,
      userAgent: input.userAgent ? input.userAgent.slice(0, 512) : null,
      outcome: input.outcome,
      requestId: input.requestId ?? null,
      data: redactSecrets(input.data ?? {}) as Record<string, unknown>,
    };
    await store.insert(event);
    return event;
  };
}
