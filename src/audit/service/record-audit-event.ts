import type { Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import { redactSecrets } from '../../platform/observability/redact.js';
import type { AuditStore, StoredAuditEvent } from '../store/audit-store.js';
import { hashAuditEvent } from './event-hash.js';

/** What a module reports; ids, time and the chain are added here. */
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

/** Appends one event to the chain inside the caller's transaction; secrets are redacted before hashing. */
export function createRecordAuditEvent(deps: RecordAuditEventDeps) {
  return async function recordAuditEvent(store: AuditStore, input: AuditEventInput): Promise<StoredAuditEvent> {
    const prevHash = await store.lockChainHead();
    const unhashed = {
      id: deps.ids.next(),
      // Millisecond precision survives the timestamptz round trip, so the hash verifies after reading back.
      time: new Date(deps.clock.nowMs()),
      type: input.type,
      actor: input.actor ?? null,
      subject: input.subject ?? null,
      ip: input.ip ?? null,
      userAgent: input.userAgent ? input.userAgent.slice(0, 512) : null,
      outcome: input.outcome,
      requestId: input.requestId ?? null,
      data: redactSecrets(input.data ?? {}) as Record<string, unknown>,
      prevHash,
    };
    const event: StoredAuditEvent = { ...unhashed, hash: hashAuditEvent(unhashed) };
    await store.insert(event);
    return event;
  };
}
