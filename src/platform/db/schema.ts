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

/** Row of `audit_events`: append-only; inserted unsealed, then sealed into the hash chain once. */
export interface AuditEventsTable {
  /** Insertion order (identity); not chain order: see chain_seq. */
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
  /** The seal columns: all NULL until the sealer sets them, once (a trigger refuses any other update). */
  prev_hash: string | null;
  hash: string | null;
  /** Position in the chain, 1-based and contiguous, assigned by the sealer. */
  chain_seq: string | null;
  /** 1: chained before the sealer (the hash does not cover chain_seq); 2: sealed. */
  hash_version: number | null;
}

/** The one row of `audit_relay_position`: chain position of the last event handed to the job queue. */
export interface AuditRelayPositionTable {
  id: Generated<boolean>;
  chain_seq: string;
  /** The relay currently allowed to advance the position, until `lease_expires_at`. */
  lease_owner: string | null;
  lease_expires_at: Date | null;
}

/** Row of `failure_stats`: failures of one kind for one IP or account in one time bucket. */
export interface FailureStatsTable {
  dimension: 'ip' | 'account';
  key: string;
  kind: string;
  bucket_start: Date;
  count: number;
}

/** Row of `processed_jobs`: a job a consumer has applied (its idempotency record). */
export interface ProcessedJobsTable {
  consumer: string;
  job_id: string;
  /** Time of the event the job carried: rows are pruned with the statistics they guard. */
  event_time: Date;
  processed_at: Date;
}

/** The whole database as Kysely sees it. */
export interface DB {
  users: UsersTable;
  signing_keys: SigningKeysTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  audit_events: AuditEventsTable;
  failure_stats: FailureStatsTable;
  processed_jobs: ProcessedJobsTable;
  audit_relay_position: AuditRelayPositionTable;
}
