import type { ColumnType, Generated } from 'kysely';

/** JSON columns: written as a JSON string, read back parsed (both drivers parse jsonb). */
export type Json<T> = ColumnType<T, string, string>;

/** Row of `users`. */
export interface UsersTable {
  id: string;
  email: string;
  name: string | null;
  password_hash: string;
  roles: Json<string[]>;
  tenant: string | null;
  mfa_enabled: boolean;
  locked_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Row of `signing_keys`: one entry of the key ring. */
export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: Json<Record<string, unknown>>;
  /** Private JWK sealed with the master key (AES-256-GCM, kid as AAD). */
  private_jwk_sealed: string;
  created_at: Date;
  /** The key may sign from this time on; it is published from `created_at`. */
  activates_at: Date;
}

/** Row of `sessions`: one login, the unit of revocation. */
export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: Date;
  last_seen_at: Date;
  idle_expires_at: Date;
  absolute_expires_at: Date;
  revoked_at: Date | null;
  revoke_reason: string | null;
}

/** Row of `refresh_tokens`: stored only as a SHA-256 hash. */
export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  user_id: string;
  created_at: Date;
  expires_at: Date;
  consumed_at: Date | null;
}

/** Row of `audit_events`: append-only, hash-chained. */
export interface AuditEventsTable {
  seq: Generated<string>;
  id: string;
  time: Date;
  type: string;
  actor: string | null;
  subject: string | null;
  ip: string | null;
  user_agent: string | null;
  outcome: string;
  request_id: string | null;
  data: Json<Record<string, unknown>>;
  prev_hash: string;
  hash: string;
}

/** The whole database as Kysely sees it. */
export interface DB {
  users: UsersTable;
  signing_keys: SigningKeysTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  audit_events: AuditEventsTable;
}
