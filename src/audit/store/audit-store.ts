/** An audit event as stored: the chain fields included. */
export interface StoredAuditEvent {
  seq?: string;
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
  prevHash: string;
  hash: string;
}

/** Persistence of the append-only audit chain. */
export interface AuditStore {
  /**
   * Takes the chain lock until the surrounding transaction ends and returns the newest
   * event's hash ('' when the log is empty). Two writers never see the same head.
   * Must be called inside a transaction.
   */
  lockChainHead(): Promise<string>;
  /** Inserts one event; the caller holds the chain lock. */
  insert(event: StoredAuditEvent): Promise<void>;
  /** Events in chain order (by seq) strictly after `afterSeq`, at most `limit`. */
  readChain(afterSeq: string | null, limit: number): Promise<StoredAuditEvent[]>;
}
