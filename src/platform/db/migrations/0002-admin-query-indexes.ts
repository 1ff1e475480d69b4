import { type Kysely, sql } from 'kysely';

/**
 * Indexes behind the admin API's keyset pagination (API.md "Administration"): every page is
 * one index range scan, however deep the cursor, instead of an OFFSET that reads and drops rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Audit events newest first by seq, filtered by actor or by type: (filter column, seq) lets
  // PostgreSQL walk one actor's or one type's events backwards from the cursor's seq.
  await sql`create index audit_events_actor_seq_idx on audit_events (actor, seq)`.execute(db);
  await sql`create index audit_events_type_seq_idx on audit_events (type, seq)`.execute(db);
  // from/to ranges on time need no new index: 0001's audit_events_time_idx (time desc, seq desc)
  // serves them, and every extra index is paid for on each audit insert.

  // Users newest first, globally ((created_at, id) from 0001, scanned backwards) and per tenant.
  await sql`create index users_tenant_created_at_idx on users (tenant, created_at, id)`.execute(db);
  // "How many active admins are left?": only admin rows are indexed, so the check stays cheap
  // whatever the number of ordinary accounts.
  await sql`create index users_active_admins_idx on users (tenant) where roles @> '["admin"]'::jsonb and locked_at is null`.execute(db);
}
