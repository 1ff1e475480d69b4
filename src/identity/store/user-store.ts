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
}
