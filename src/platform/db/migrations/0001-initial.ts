import { type Kysely, sql } from 'kysely';

/** Accounts, key ring, sessions, refresh tokens and the append-only audit log. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table users (
      id text primary key,
      email text not null unique,
      name text,
      password_hash text not null,
      roles jsonb not null default '["user"]'::jsonb,
      tenant text,
      mfa_enabled boolean not null default false,
      locked_at timestamptz,
      created_at timestamptz not null,
      updated_at timestamptz not null
    )`.execute(db);
  await sql`create index users_created_at_idx on users (created_at, id)`.execute(db);

  await sql`
    create table signing_keys (
      kid text primary key,
      alg text not null,
      public_jwk jsonb not null,
      private_jwk_sealed text not null,
      created_at timestamptz not null,
      activates_at timestamptz not null
    )`.execute(db);

  await sql`
    create table sessions (
      id text primary key,
      user_id text not null references users (id) on delete cascade,
      created_at timestamptz not null,
      last_seen_at timestamptz not null,
      idle_expires_at timestamptz not null,
      absolute_expires_at timestamptz not null,
      revoked_at timestamptz,
      revoke_reason text
    )`.execute(db);
  await sql`create index sessions_user_idx on sessions (user_id)`.execute(db);
  await sql`create index sessions_revoked_idx on sessions (revoked_at) where revoked_at is not null`.execute(db);

  await sql`
    create table refresh_tokens (
      token_hash text primary key,
      session_id text not null references sessions (id) on delete cascade,
      user_id text not null,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      consumed_at timestamptz
    )`.execute(db);
  await sql`create index refresh_tokens_session_idx on refresh_tokens (session_id)`.execute(db);

  await sql`
    create table audit_events (
      seq bigint generated always as identity primary key,
      id text not null unique,
      time timestamptz not null,
      type text not null,
      actor text,
      subject text,
      ip text,
      user_agent text,
      outcome text not null,
      request_id text,
      data jsonb not null,
      prev_hash text not null,
      hash text not null
    )`.execute(db);
  await sql`create index audit_events_time_idx on audit_events (time desc, seq desc)`.execute(db);
  await sql`create index audit_events_type_time_idx on audit_events (type, time desc, seq desc)`.execute(db);
  await sql`create index audit_events_actor_time_idx on audit_events (actor, time desc, seq desc)`.execute(db);

  // Append-only at the database level: even a bug or a stolen app credential cannot rewrite history quietly.
  await sql`
    create function audit_events_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_events is append-only' using errcode = '42501';
    end $$`.execute(db);
  await sql`create trigger audit_events_no_update before update or delete on audit_events
    for each row execute function audit_events_append_only()`.execute(db);
  await sql`create trigger audit_events_no_truncate before truncate on audit_events
    for each statement execute function audit_events_append_only()`.execute(db);
}
