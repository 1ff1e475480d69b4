/**
 * The relay's persisted progress through the sealed chain (one row), and the lease that lets one
 * relay at a time (across instances) move it. The lease is a row, not a lock held by a
 * transaction: the relay hands events to the queue with no transaction open, so a queue whose
 * handlers need the database (PGlite has one connection) never waits for the relay.
 */
export interface AuditRelayStore {
  /**
   * Takes the lease for `leaseMs` (database time) when it is free, expired or already `owner`'s,
   * and returns the position ('0' before the first event); null when another relay holds it.
   * Atomic: of two concurrent claims on a free lease exactly one succeeds.
   */
  claim(owner: string, leaseMs: number): Promise<string | null>;
  /** Moves the position from `from` to `to` if `owner` still holds the lease and the position is still `from`; false otherwise. */
  advance(owner: string, from: string, to: string): Promise<boolean>;
  /** Gives the lease up if `owner` holds it. */
  release(owner: string): Promise<void>;
  /** Chain position of the last event handed to the queue ('0' before the first). */
  position(): Promise<string>;
  /** Whether sealed events exist after the position (one index probe). */
  hasPending(): Promise<boolean>;
}
