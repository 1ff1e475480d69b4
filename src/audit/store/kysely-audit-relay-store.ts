import { type Kysely, sql } from 'kysely';
import type { DB } from '../../platform/db/schema.js';
import type { AuditRelayStore } from './audit-relay-store.js';

/** AuditRelayStore over Kysely: each method is one statement, no transaction needed. */
export function createKyselyAuditRelayStore(db: Kysely<DB>): AuditRelayStore {
  return {
    async claim(owner, leaseMs) {
      // One UPDATE: concurrent claims serialize on the row lock, and the loser re-checks the
      // condition against the winner's row (READ COMMITTED), so it sees the lease as taken.
      const { rows } = await sql<{ chain_seq: string | number }>`
        update audit_relay_position
        set lease_owner = ${owner}, lease_expires_at = clock_timestamp() + ${leaseMs} * interval '1 millisecond'
        where lease_owner is null or lease_owner = ${owner} or lease_expires_at < clock_timestamp()
        returning chain_seq`.execute(db);
      return rows[0] ? String(rows[0].chain_seq) : null;
    },
    async advance(owner, from, to) {
      const result = await db.updateTable('audit_relay_position').set({ chain_seq: to })
        .where('lease_owner', '=', owner).where('chain_seq', '=', from).executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
    async release(owner) {
      await db.updateTable('audit_relay_position').set({ lease_owner: null, lease_expires_at: null }).where('lease_owner', '=', owner).execute();
    },
    async position() {
      const row = await db.selectFrom('audit_relay_position').select('chain_seq').executeTakeFirstOrThrow();
      return String(row.chain_seq);
    },
    async hasPending() {
      const { rows } = await sql<{ pending: boolean }>`
        select exists (
          select 1 from audit_events where chain_seq > (select chain_seq from audit_relay_position)
        ) as pending`.execute(db);
      return rows[0]?.pending === true;
    },
  };
}
