/** One key of the ring as persisted; the private JWK is sealed under the master key. */
export interface SigningKeyRecord {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  privateJwkSealed: string;
  createdAt: Date;
  activatesAt: Date;
}

/** Persistence of the key ring. */
export interface SigningKeyStore {
  /** Every key, oldest activation first. */
  list(): Promise<SigningKeyRecord[]>;
  /**
   * Runs `decide` with the current ring under a lock that serialises rotations across
   * instances; inserts the record it returns, if any, in the same transaction.
   */
  rotateLocked(decide: (current: SigningKeyRecord[]) => Promise<SigningKeyRecord | undefined>): Promise<SigningKeyRecord | undefined>;
}
