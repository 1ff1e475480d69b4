import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.js';
import type { AuditQueryStore, QueriedAuditEvent } from './audit-query.js';

/** AuditQueryStore over Kysely: keyset pages on seq, served by the (actor, seq), (type, seq) and time indexes. */
export function createKyselyAuditQuery(db: Kysely<DB>): AuditQueryStore {
  return {
    async listNewestFirst(filter, beforeSeq, limit) {
      let query = db.selectFrom('audit_events')
        .select(['seq', 'id', 'time', 'type', 'actor', 'subject', 'ip', 'user_agent', 'outcome', 'request_id', 'data'])
        .orderBy('seq', 'desc').limit(limit);
      if (filter.type !== undefined) query = query.where('type', '=', filter.type);
      if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
      if (filter.from !== undefined) query = query.where('time', '>=', filter.from);
      if (filter.to !== undefined) query = query.where('time', '<', filter.to);
      if (beforeSeq !== null) query = query.where('seq', '<', beforeSeq);
      const rows = await query.execute();
      return rows.map((r): QueriedAuditEvent => ({
        seq: String(r.seq), id: r.id, time: r.time, type: r.type, actor: r.actor, subject: r.subject, ip: r.ip,
        userAgent: r.user_agent, outcome: r.outcome, requestId: r.request_id, data: r.data,
      }));
    },
  };
}
