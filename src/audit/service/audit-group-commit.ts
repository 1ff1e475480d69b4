import type { Transact } from '../../platform/db/transact.js';
import type { AuditEventInput } from './record-audit-event.js';

/** What the group commit writes through: a transaction with an audit log bound to it. */
export interface GroupCommitStores { audit: { record(input: AuditEventInput): Promise<void> } }

/** Dependencies of the audit group commit. */
export interface AuditGroupCommitDeps {
  transact: Transact<GroupCommitStores>;
  /** Most events written in one transaction. */
  maxBatch: number;
}

/**
 * Records events that stand alone — a denied decision, a blocked request — not tied to a change
 * of their own. Each caller still waits until its event is committed (nothing is answered before
 * it is on record), but events arriving while a transaction is in flight share the next one: under
 * a flood of denials the database sees one commit per batch instead of one per request, and when
 * traffic is light an event is written at once, with no added delay.
 */
export function createAuditGroupCommit(deps: AuditGroupCommitDeps) {
  let pending: { input: AuditEventInput; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let writing = false;

  async function drain(): Promise<void> {
    writing = true;
    try {
      while (pending.length > 0) {
        const batch = pending.slice(0, deps.maxBatch);
        pending = pending.slice(batch.length);
        try {
          await deps.transact(async ({ audit }) => {
            for (const entry of batch) await audit.record(entry.input);
          });
          for (const entry of batch) entry.resolve();
        } catch (error) {
          for (const entry of batch) entry.reject(error);
        }
      }
    } finally {
      writing = false;
    }
  }

  return {
    /** Resolves once the event is committed (with whatever else arrived meanwhile); rejects if that transaction failed. */
    record(input: AuditEventInput): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        pending.push({ input, resolve, reject });
        if (!writing) void drain();
      });
    },
  };
}

/** The group commit's surface. */
export type AuditGroupCommit = ReturnType<typeof createAuditGroupCommit>;
