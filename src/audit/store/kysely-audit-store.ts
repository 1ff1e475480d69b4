import { type Kysely, sql } from 'kysely';
import type { DB } from '../../platform/db/schema.js';
import type { AuditStore, StoredAuditEvent } from './audit-store.js';

// Arbitrary constant naming the audit chain's advisory lock.
const CHAIN_LOCK_KEY = 7_243_551_001;

/** AuditStore over Kysely; `db` is a transaction when appending. */
export function createKyselyAuditStore(db: Kysely<DB>): AuditStore {
  return {
    async lockChainHead() {
      await sql`select pg_advisory_xact_lock(${CHAIN_LOCK_KEY})`.execute(db);
      const head = await db.selectFrom('audit_events').select('hash').orderBy('seq', 'desc').limit(1).executeTakeFirst();
      return head?.hash ?? '';
    },
    async insert(event) {
      await db.insertInto('audit_events').values({
        id: event.id,
        time: event.time,
        type: event.type,
        actor: event.actor,
        subject: event.subject,
        ip: event.ip,
        user_agent: event.userAgent,
        outcome: event.outcome,
        request_id: event.requestId,
        data: JSON.stringify(event.data),
        prev_hash: event.prevHash,
        hash: event.hash,
      }).execute();
    },
    async readChain(afterSeq, limit) {
      let query = db.selectFrom('audit_events').selectAll().orderBy('seq', 'asc').limit(limit);
      if (afterSeq !== null) query = query.where('seq', '>', afterSeq);
      const rows = await query.execute();
      return rows.map((r): StoredAuditEvent => ({
        seq: String(r.seq),
        id: r.id,
        time: r.time,
        type: r.type,
        actor: r.actor,
        subject: r.subject,
        ip: r.ip,
        userAgent: r.user_agent,
        outcome: r.outcome,
        requestId: r.request_id,
        data: r.data,
        prevHash: r.prev_hash,
        hash: r.hash,
      }));
    },
  };
}
