/** An audit event as the query API reads it: the chain fields (prev_hash, hash) are left out. */
export interface QueriedAuditEvent {
  /** Position in the log; a decimal string (bigint). */
  seq: string;
  id: string;
  time: Date;
  type: string;
  actor: string | null;
  subject: string | null;
  ip: string | null;
  userAgent: string | null;
  outcome: string;
  requestId: string | null;
  data: Record<string, unknown>;
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
  /** Up to `limit` events matching `filter`, newest first (seq desc), strictly below `beforeSeq` when given. */
  listNewestFirst(filter: AuditEventFilter, beforeSeq: string | null, limit: number): Promise<QueriedAuditEvent[]>;
}
