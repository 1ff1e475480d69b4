import type { AuditEventFilter, AuditQueryStore, QueriedAuditEvent } from '../store/audit-query.js';

/** One page of events, newest first; `lastPosition` is where the next page starts when `hasMore`. */
export interface AuditEventPage {
  events: QueriedAuditEvent[];
  hasMore: boolean;
  lastPosition: string | null;
}

/** Reads the audit log newest first: pages for the JSON API, and a batched stream for exports. */
export function createQueryAuditEvents(store: AuditQueryStore) {
  return {
    /** One page of at most `limit` events strictly below `beforePosition`; one extra row is read to know whether more follow. */
    async page(filter: AuditEventFilter, beforePosition: string | null, limit: number): Promise<AuditEventPage> {
      const rows = await store.listNewestFirst(filter, beforePosition, limit + 1);
      const hasMore = rows.length > limit;
      const events = hasMore ? rows.slice(0, limit) : rows;
      return { events, hasMore, lastPosition: events.at(-1)?.position ?? null };
    },

    /**
     * Every matching event strictly below `beforePosition`, newest first, read `batchSize` at a
     * time: the next batch is read only when the consumer asks for it, so a slow reader holds one
     * batch. Events sealed meanwhile get higher positions and are not included: the stream is the
     * sealed log as it stood when it started.
     */
    async *stream(filter: AuditEventFilter, beforePosition: string | null, batchSize: number): AsyncGenerator<QueriedAuditEvent> {
      let cursor = beforePosition;
      for (;;) {
        const batch = await store.listNewestFirst(filter, cursor, batchSize);
        yield* batch;
        if (batch.length < batchSize) return;
        cursor = batch.at(-1)!.position;
      }
    },
  };
}

/** The audit query service. */
export type AuditEventQuery = ReturnType<typeof createQueryAuditEvents>;
