import { type Kysely, type Selectable, sql } from 'kysely';
import type { AuditEventsTable, DB } from '../../platform/db/schema.js';
import type { AuditStore, StoredAuditEvent, UnsealedAuditEvent } from './audit-store.js';

// Arbitrary constant naming the sealer's advisory lock; the second key is the schema, so
// deployments (and test runs) sharing one database in separate schemas do not wait for each other.
const SEALER_LOCK_CLASS = 724_355_101;

/** Content and insertion seq of a row; bigints arrive as strings from pg and as numbers from PGlite. */
function unsealedFromRow(r: Selectable<AuditEventsTable>): UnsealedAuditEvent {
  return {
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
  };
}

/** AuditStore over Kysely; `db` is a transaction when inserting, locking or sealing. */
export function createKyselyAuditStore(db: Kysely<DB>): AuditStore {
  return {
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
      }).execute();
    },
    async lockSealer(wait) {
      if (wait) {
        await sql`select pg_advisory_xact_lock(${SEALER_LOCK_CLASS}, hashtext(current_schema()))`.execute(db);
        return true;
      }
      const { rows } = await sql<{ locked: boolean }>`
        select pg_try_advisory_xact_lock(${SEALER_LOCK_CLASS}, hashtext(current_schema())) as locked`.execute(db);
      return rows[0]?.locked === true;
    },
    async chainHead() {
      const head = await db.selectFrom('audit_events').select(['chain_seq', 'hash'])
        .where('chain_seq', 'is not', null).orderBy('chain_seq', 'desc').limit(1).executeTakeFirst();
      return head?.chain_seq != null && head.hash !== null ? { chainSeq: String(head.chain_seq), hash: head.hash } : null;
    },
    async readUnsealed(limit) {
      const rows = await db.selectFrom('audit_events').selectAll().where('chain_seq', 'is', null).orderBy('seq', 'asc').limit(limit).execute();
      return rows.map(unsealedFromRow);
    },
    async seal(seals) {
      if (seals.length === 0) return;
      const values = sql.join(seals.map((s) =>
        sql`(${s.seq}::bigint, ${s.chainSeq}::bigint, ${s.prevHash}::text, ${s.hash}::text, ${s.hashVersion}::smallint)`));
      const result = await sql`
        update audit_events as a
        set chain_seq = v.chain_seq, prev_hash = v.prev_hash, hash = v.hash, hash_version = v.hash_version
        from (values ${values}) as v (seq, chain_seq, prev_hash, hash, hash_version)
        where a.seq = v.seq and a.chain_seq is null`.execute(db);
      // Under the sealer lock this cannot happen; if it does, the caller's transaction rolls the batch back.
      if (result.numAffectedRows !== BigInt(seals.length)) {
        throw new Error(`sealed ${result.numAffectedRows} of ${seals.length} audit events: some were missing or already sealed`);
      }
    },
    async hasUnsealed() {
      const { rows } = await sql<{ pending: boolean }>`
        select exists (select 1 from audit_events where chain_seq is null) as pending`.execute(db);
      return rows[0]?.pending === true;
    },
    async countUnsealed() {
      const row = await db.selectFrom('audit_events').select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('chain_seq', 'is', null).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async readChain(afterChainSeq, limit) {
      let query = db.selectFrom('audit_events').selectAll().where('chain_seq', 'is not', null).orderBy('chain_seq', 'asc').limit(limit);
      if (afterChainSeq !== null) query = query.where('chain_seq', '>', afterChainSeq);
      const rows = await query.execute();
      return rows.map((r): StoredAuditEvent => ({
        ...unsealedFromRow(r),
        chainSeq: String(r.chain_seq),
        prevHash: r.prev_hash ?? '',
        hash: r.hash ?? '',
        hashVersion: Number(r.hash_version),
      }));
    },
  };
}
