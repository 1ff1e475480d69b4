import { type Kysely, sql } from 'kysely';

/**
 * Indexes behind the admin audit query (API.md "Administration"): pages are keyed on the chain
 * position the sealer hands out (0003), newest first, optionally filtered by actor or type, so
 * every page is one backward index range scan from the cursor, however deep. The unfiltered
 * listing uses 0003's unique index on chain_seq; time ranges combine with either.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // 0001's (actor|type, time, seq) indexes ordered the old seq-keyed listing; nothing reads in
  // that order any more, and each index is paid for on every audit insert and seal.
  await sql`drop index audit_events_actor_time_idx`.execute(db);
  await sql`drop index audit_events_type_time_idx`.execute(db);
  await sql`create index audit_events_actor_chain_idx on audit_events (actor, chain_seq) where chain_seq is not null`.execute(db);
  await sql`create index audit_events_type_chain_idx on audit_events (type, chain_seq) where chain_seq is not null`.execute(db);
}
