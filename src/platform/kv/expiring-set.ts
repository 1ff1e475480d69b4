/**
 * A set whose members expire; used for revoked session ids.
 * `has` is synchronous and local so the request path never waits on the network;
 * a distributed adapter keeps a local mirror fed by pub/sub.
 */
export interface ExpiringSet {
  /** Adds `member` until `expiresAtMs`; adding again keeps the later expiry. Visible to `has` on every instance once it resolves. */
  add(member: string, expiresAtMs: number): Promise<void>;
  /** True while `member` is present and not expired. */
  has(member: string): boolean;
  /** Number of live members (for metrics and tests). */
  size(): number;
  /** Stops timers and connections. */
  close(): Promise<void>;
}
