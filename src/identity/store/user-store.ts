/** An account as the identity module sees it. */
export interface UserRecord {
  id: string;
  email: string;
  name: string | null;
  passwordHash: string;
  roles: string[];
  tenant: string | null;
  mfaEnabled: boolean;
  lockedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Persistence of accounts. */
export interface UserStore {
  /** Inserts a new account; returns 'email_taken' instead of throwing when the normalised email exists (atomic: unique index). */
  insert(user: UserRecord): Promise<'created' | 'email_taken'>;
  findByEmail(email: string): Promise<UserRecord | undefined>;
  findById(id: string): Promise<UserRecord | undefined>;
  /** Replaces the password hash (used to upgrade outdated hashes after a successful login). */
  updatePasswordHash(id: string, passwordHash: string, at: Date): Promise<void>;
  /**
   * Reads an account and holds a share lock on its row until the surrounding transaction ends:
   * a concurrent setRoles or setLocked either committed before (and is seen) or waits for this
   * transaction (and then sees what it wrote, e.g. the session it started). Inside a transaction only.
   */
  findByIdForShare(id: string): Promise<UserRecord | undefined>;
  /**
   * One page of accounts, newest first (created_at desc, id desc), strictly after `after` when
   * given. `tenant` undefined lists every tenant; a string lists that tenant only. `search`
   * matches a case-insensitive substring of the email or the name, taken literally (LIKE
   * metacharacters in it match themselves).
   */
  listUsers(options: UserListOptions): Promise<UserRecord[]>;
  /** Replaces the roles; false when no such account. */
  setRoles(id: string, roles: readonly string[], at: Date): Promise<boolean>;
  /** Locks (a time) or unlocks (null) the account; true only when this call changed its state. */
  setLocked(id: string, lockedAt: Date | null, at: Date): Promise<boolean>;
  /**
   * Serialises privilege changes: a transaction-scoped lock that every role change and account
   * lock takes first, so checks such as "is this the last admin?" cannot interleave. Inside a transaction only.
   */
  lockAdminRoster(): Promise<void>;
  /** Unlocked accounts holding role `admin` that are global (no tenant) or in `tenant`, `excludeId` not counted. */
  countActiveAdmins(scope: { tenant: string | null; excludeId: string }): Promise<number>;
}

/** What listUsers is asked for. */
export interface UserListOptions {
  tenant?: string | undefined;
  search?: string | undefined;
  after?: { createdAt: Date; id: string } | undefined;
  limit: number;
}
