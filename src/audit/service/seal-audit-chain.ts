import type { Transact } from '../../platform/db/transact.js';
import type { AuditSeal, AuditStore } from '../store/audit-store.js';
import { CURRENT_HASH_VERSION, hashAuditEvent } from './event-hash.js';

/** Dependencies of sealAuditChain: `audit` outside any transaction (for the cheap "anything to do?" probe). */
export interface SealAuditChainDeps {
  audit: AuditStore;
  transact: Transact<{ audit: AuditStore }>;
  /** Events sealed per transaction. */
  batchSize: number;
}

/** What one sealing run did. */
export interface SealOutcome {
  /** Events placed in the chain by this run. */
  sealed: number;
  /** False when another sealer held the lock (only when not waiting): that one seals instead. */
  locked: boolean;
}

/**
 * Places every committed unsealed event in the chain, one transaction per batch, under the sealer
 * lock so that exactly one sealer (across all instances) extends the chain at a time.
 *
 * Positions are assigned here, not taken from `seq`: a transaction still open when a batch is
 * sealed may hold a lower `seq` than rows already sealed; its row is invisible now and gets the
 * next free position once it commits. The order within a batch (lowest `seq` first) is only a
 * deterministic choice; the chain order is whatever `chain_seq` records.
 */
export function createSealAuditChain(deps: SealAuditChainDeps) {
  const sealBatch = (wait: boolean) => deps.transact(async ({ audit }): Promise<number | null> => {
    if (!(await audit.lockSealer(wait))) return null;
    const pending = await audit.readUnsealed(deps.batchSize);
    if (pending.length === 0) return 0;
    // Read under the lock: the head cannot move until this transaction ends.
    const head = await audit.chainHead();
    let position = BigInt(head?.chainSeq ?? 0);
    let prevHash = head?.hash ?? '';
    const seals = pending.map((event): AuditSeal => {
      position += 1n;
      const link = { chainSeq: position.toString(), prevHash, hashVersion: CURRENT_HASH_VERSION };
      const hash = hashAuditEvent({ ...event, ...link });
      prevHash = hash;
      return { seq: event.seq, ...link, hash };
    });
    await audit.seal(seals);
    return seals.length;
  });

  return async function sealAuditChain(options: { wait?: boolean } = {}): Promise<SealOutcome> {
    const wait = options.wait ?? false;
    if (!(await deps.audit.hasUnsealed())) return { sealed: 0, locked: true };
    let sealed = 0;
    for (;;) {
      const count = await sealBatch(wait);
      if (count === null) return { sealed, locked: false };
      sealed += count;
      if (count < deps.batchSize) return { sealed, locked: true };
    }
  };
}
