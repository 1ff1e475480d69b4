import type { AuditStore } from '../store/audit-store.js';
import { hashAuditEvent } from './event-hash.js';

/** Outcome of a chain check, as served by GET /v1/admin/audit-events/verify. */
export interface ChainVerification { ok: boolean; checked: number; firstBadId?: string }

/**
 * Walks the whole chain in order and reports the first event whose hash does not match
 * its content or whose link does not match its predecessor. An edited row fails its own
 * hash; a deleted or reordered row breaks the next link.
 */
export async function verifyAuditChain(store: AuditStore, batchSize = 1000): Promise<ChainVerification> {
  let previousHash = '';
  let afterSeq: string | null = null;
  let checked = 0;
  for (;;) {
    const batch = await store.readChain(afterSeq, batchSize);
    if (batch.length === 0) return { ok: true, checked };
    for (const event of batch) {
      checked++;
      if (event.prevHash !== previousHash || hashAuditEvent(event) !== event.hash) {
        return { ok: false, checked, firstBadId: event.id };
      }
      previousHash = event.hash;
    }
    afterSeq = batch[batch.length - 1]!.seq ?? null;
  }
}
