import { type Kysely, sql } from 'kysely';

/**
 * Audit events are written unsealed (no lock, no chain fields) in the transaction of the change
 * they record; one sealer at a time later gives each a chain position (`chain_seq`), links it to
 * its predecessor and hashes it. Rows chained by 0001 keep their hashes (`hash_version` 1) and
 * get positions in `seq` order, which was their chain order under the old chain lock.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table audit_events
    alter column prev_hash drop not null,
    alter column hash drop not null,
    add column chain_seq bigint,
    add column hash_version smallint`.execute(db);

  // Only the migration may label the history written under the old scheme.
  await sql`alter table audit_events disable trigger audit_events_no_update`.execute(db);
  await sql`update audit_events set chain_seq = ordered.position, hash_version = 1
    from (select seq, row_number() over (order by seq) as position from audit_events) as ordered
    where audit_events.seq = ordered.seq`.execute(db);
  await sql`alter table audit_events enable trigger audit_events_no_update`.execute(db);

  // A row is either wholly unsealed or wholly sealed: an old writer that still computes its own
  // prev_hash (a rolling deploy) fails here instead of forking the chain.
  await sql`alter table audit_events add constraint audit_events_seal_complete check (
    (chain_seq is null and prev_hash is null and hash is null and hash_version is null)
    or (chain_seq is not null and prev_hash is not null and hash is not null and hash_version is not null))`.execute(db);
  await sql`alter table audit_events add constraint audit_events_chain_seq_key unique (chain_seq)`.execute(db);
  // The sealer's work list stays small however long the log grows.
  await sql`create index audit_events_unsealed_idx on audit_events (seq) where chain_seq is null`.execute(db);

  // Still append-only, with one exception: the sealer's one-time update, where the seal columns
  // go from NULL to values and every other column (seq, id, content) stays exactly as written.
  await sql`
    create or replace function audit_events_append_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and old.chain_seq is null and new.chain_seq is not null
        and (to_jsonb(old) - '{chain_seq,prev_hash,hash,hash_version}'::text[])
          = (to_jsonb(new) - '{chain_seq,prev_hash,hash,hash_version}'::text[]) then
        return new;
      end if;
      raise exception 'audit_events is append-only' using errcode = '42501';
    end $$`.execute(db);
  // Only the sealer places events in the chain: a row inserted already sealed could claim any position.
  await sql`
    create function audit_events_insert_unsealed() returns trigger language plpgsql as $$
    begin
      if new.chain_seq is not null then
        raise exception 'audit_events rows are inserted unsealed' using errcode = '42501';
      end if;
      return new;
    end $$`.execute(db);
  await sql`create trigger audit_events_insert_unsealed before insert on audit_events
    for each row execute function audit_events_insert_unsealed()`.execute(db);

  // The relay's progress: the chain position of the last event handed to the job queue. It starts
  // after the history above, which predates the queue and is not replayed into it. The lease makes
  // one relay at a time without holding a transaction (or a connection) while the queue accepts.
  await sql`
    create table audit_relay_position (
      id boolean primary key default true check (id),
      chain_seq bigint not null,
      lease_owner text,
      lease_expires_at timestamptz
    )`.execute(db);
  await sql`insert into audit_relay_position (id, chain_seq)
    select true, coalesce(max(chain_seq), 0) from audit_events`.execute(db);
}
