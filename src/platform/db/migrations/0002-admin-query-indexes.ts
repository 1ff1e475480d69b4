import { type Kysely, sql } from 'kysely';

/**
 * Indexes behind the admin API's keyset pagination (API.md "Administration"): every page is
 * one index range scan, however deep the cursor, instead of an OFFSET that reads and drops rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // The audit query's indexes follow the sealer's chain positions: see 0005.
  // Users newest first, globally ((created_at, id) from 0001, scanned backwards) and per tenant.
  await sql`create index users_tenant_created_at_idx on users (tenant, created_at, id)`.execute(db);
  // "How many active admins are left?": only admin rows are indexed, so the check stays cheap
  // whatever the number of ordinary accounts.
  await sql`create index users_active_admins_idx on users (tenant) where roles @> '["admin"]'::jsonb and locked_at is null`.execute(db);
}
