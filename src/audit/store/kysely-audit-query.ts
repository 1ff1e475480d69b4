import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.js';
import type { AuditQueryStore, QueriedAuditEvent } from './audit-query.js';

/** AuditQueryStore over Kysely: keyset pages on chain_seq, served by the (actor, chain_seq), (type, chain_seq) and chain_seq indexes. */
export function createKyselyAuditQuery(db: Kysely<DB>): AuditQueryStore {
  return {
    async listNewestFirst(filter, beforePosition, limit) {
      let query = db.selectFrom('audit_events')
        .where('chain_seq', 'is not', null)
        .select(['chain_seq', 'id', 'time', 'type', 'actor', 'subject', 'ip', 'user_agent', 'outcome', 'request_id', 'data'])
        .orderBy('chain_seq', 'desc').limit(limit);
      if (filter.type !== undefined) query = query.where('type', '=', filter.type);
      if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
      if (filter.from !== undefined) query = query.where('time', '>=', filter.from);
      if (filter.to !== undefined) query = query.where('time', '<', filter.to);
      if (beforePosition !== null) query = query.where('chain_seq', '<', beforePosition);
      const rows = await query.execute();
      return rows.map((r): QueriedAuditEvent => ({
        position: String(r.chain_seq), id: r.id, time: r.time, type: r.type, actor: r.actor, subject: r.subject, ip: r.ip,
        userAgent: r.user_agent, outcome: r.outcome, requestId: r.request_id, data: r.data,
      }));
    },
  };
}
