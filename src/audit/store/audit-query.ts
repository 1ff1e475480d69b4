import type { AuditEventRecord } from './audit-store.js';

/** An audit event as the query API reads it: its content and chain position, without the hashes. */
export interface QueriedAuditEvent extends AuditEventRecord {
  /** Chain position given by the sealer; a decimal string (bigint). */
  position: string;
}

/** Filters of the audit query; every one given must match. */
export interface AuditEventFilter {
  type?: string | undefined;
  actor?: string | undefined;
  /** Inclusive lower bound on `time`. */
  from?: Date | undefined;
  /** Exclusive upper bound on `time`. */
  to?: Date | undefined;
}

/** Read side of the audit log. */
export interface AuditQueryStore {
  /**
   * Up to `limit` sealed events matching `filter`, newest first (chain position desc), strictly
   * below `beforePosition` when given. Only sealed events: positions are handed out in the order
   * events become visible, so an event committing after a page was read can only appear above
   * it, never inside a range already paged through (insertion `seq` order has no such guarantee).
   */
  listNewestFirst(filter: AuditEventFilter, beforePosition: string | null, limit: number): Promise<QueriedAuditEvent[]>;
}
