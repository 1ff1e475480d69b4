/** What a writer records: an audit event's content, before the sealer places it in the chain. */
export interface AuditEventRecord {
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

/** A committed event waiting for the sealer; `seq` is insertion order, not chain order. */
export interface UnsealedAuditEvent extends AuditEventRecord {
  seq: string;
}

/** Where the sealer put an event: its chain position, the link to its predecessor and its own hash. */
export interface ChainLink {
  /** 1-based position in the chain, contiguous; assigned at seal time. */
  chainSeq: string;
  /** The predecessor's hash ('' for the first event). */
  prevHash: string;
  hash: string;
  /** 1: chained before the sealer existed (the hash does not cover chainSeq); 2: sealed (it does). */
  hashVersion: number;
}

/** A sealed event as stored: content, insertion seq and chain link. */
export interface StoredAuditEvent extends UnsealedAuditEvent, ChainLink {}

/** The seal the sealer writes onto one unsealed row (identified by its `seq`). */
export type AuditSeal = ChainLink & { seq: string };

/** Persistence of the append-only audit log and its hash chain. */
export interface AuditStore {
  /** Inserts one unsealed event in the caller's transaction; takes no lock, so writers never wait for each other. */
  insert(event: AuditEventRecord): Promise<void>;
  /**
   * Takes the sealer lock until the surrounding transaction ends: with `wait` false it returns
   * false at once when another sealer (this or another instance) holds it; with `wait` true it
   * blocks until it gets it. Under the lock no one else writes seals. Call inside a transaction.
   */
  lockSealer(wait: boolean): Promise<boolean>;
  /** The last sealed event's position and hash; null when nothing is sealed yet. */
  chainHead(): Promise<Pick<ChainLink, 'chainSeq' | 'hash'> | null>;
  /** Committed unsealed events, lowest seq first, at most `limit`. */
  readUnsealed(limit: number): Promise<UnsealedAuditEvent[]>;
  /** Writes seals onto unsealed rows in one statement; throws (writing none) if any row is missing or already sealed. */
  seal(seals: readonly AuditSeal[]): Promise<void>;
  /** Whether any committed event awaits sealing (one index probe). */
  hasUnsealed(): Promise<boolean>;
  /** How many committed events await sealing. */
  countUnsealed(): Promise<number>;
  /** Sealed events in chain order strictly after position `afterChainSeq` (null: from the start), at most `limit`. */
  readChain(afterChainSeq: string | null, limit: number): Promise<StoredAuditEvent[]>;
}
