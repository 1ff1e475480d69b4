import type { AuditStore } from '../store/audit-store.js';
import { hashAuditEvent } from './event-hash.js';

/** Outcome of a chain check, as served by GET /v1/admin/audit-events/verify. */
export interface ChainVerification {
  ok: boolean;
  /** Sealed events checked, up to and including the first bad one. */
  checked: number;
  /** Committed events not yet sealed: not part of the chain yet, so not checked. */
  unsealed: number;
  firstBadId?: string;
}

/**
 * Walks the sealed chain in chain order and reports the first event whose hash does not match
 * its content and position, whose position is not the next one, or whose link does not match its
 * predecessor. An edited row fails its own hash; a deleted or reordered row breaks the next link.
 */
export async function verifyAuditChain(store: AuditStore, batchSize = 1000): Promise<ChainVerification> {
  let previousHash = '';
  let position = 0n;
  let checked = 0;
  let afterChainSeq: string | null = null;
  for (;;) {
    const batch = await store.readChain(afterChainSeq, batchSize);
    if (batch.length === 0) return { ok: true, checked, unsealed: await store.countUnsealed() };
    for (const event of batch) {
      checked++;
      position += 1n;
      if (event.chainSeq !== position.toString() || event.prevHash !== previousHash || hashAuditEvent(event) !== event.hash) {
        return { ok: false, checked, unsealed: await store.countUnsealed(), firstBadId: event.id };
      }
      previousHash = event.hash;
    }
    afterChainSeq = batch[batch.length - 1]!.chainSeq;
  }
}
