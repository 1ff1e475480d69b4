import type { AuditEventFilter, AuditQueryStore, QueriedAuditEvent } from '../store/audit-query.js';

/** One page of events, newest first; `lastSeq` is where the next page starts when `hasMore`. */
export interface AuditEventPage {
  events: QueriedAuditEvent[];
  hasMore: boolean;
  lastSeq: string | null;
}

/** Reads the audit log newest first: pages for the JSON API, and a batched stream for exports. */
export function createQueryAuditEvents(store: AuditQueryStore) {
  return {
    /** One page of at most `limit` events strictly below `beforeSeq`; one extra row is read to know whether more follow. */
    async page(filter: AuditEventFilter, beforeSeq: string | null, limit: number): Promise<AuditEventPage> {
      const rows = await store.listNewestFirst(filter, beforeSeq, limit + 1);
      const hasMore = rows.length > limit;
      const events = hasMore ? rows.slice(0, limit) : rows;
      return { events, hasMore, lastSeq: events.at(-1)?.seq ?? null };
    },

    /**
     * Every matching event strictly below `beforeSeq`, newest first, read `batchSize` at a time:
     * the next batch is read only when the consumer asks for it, so a slow reader holds one batch.
     * Events appended meanwhile have higher seqs and are not included: the stream is the log as
     * it stood when it started.
     */
    async *stream(filter: AuditEventFilter, beforeSeq: string | null, batchSize: number): AsyncGenerator<QueriedAuditEvent> {
      let cursor = beforeSeq;
      for (;;) {
        const batch = await store.listNewestFirst(filter, cursor, batchSize);
        yield* batch;
        if (batch.length < batchSize) return;
        cursor = batch.at(-1)!.seq;
      }
    },
  };
}

/** The audit query service. */
export type AuditEventQuery = ReturnType<typeof createQueryAuditEvents>;
