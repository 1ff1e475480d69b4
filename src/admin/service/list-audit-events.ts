import { z } from 'zod';
import type { AuditEventFilter, AuditEventQuery } from '../../audit/index.js';
import type { RequestContext } from '../../platform/request-context.js';
import type { AdminCaller } from './admin-types.js';
import { auditEventView, type AuditEventView } from '../../audit/index.js';
import { ADMIN_AUDIT_EVENT, type AdminAuthorizer } from './authorize-admin.js';
import type { CursorCodec, CursorFilters } from './cursor-codec.js';

/** Dependencies of the audit listing. */
export interface ListAuditEventsDeps {
  query: AuditEventQuery;
  authorizer: AdminAuthorizer;
  cursors: CursorCodec;
  /** Rows read per batch while streaming. */
  streamBatchSize: number;
  /** Seals what has been committed so far: only sealed events are listed, and an operator expects to see the latest. */
  sealPending: () => Promise<unknown>;
}

/** GET /v1/admin/audit-events query after validation. */
export interface AuditListQuery extends AuditEventFilter {
  cursor?: string | undefined;
  limit: number;
}

/** A page of events, newest first. */
export interface AuditEventPageView { items: AuditEventView[]; nextCursor: string | null }

// Where the previous page ended: the chain position of its last (oldest) event, a positive bigint in decimal.
const auditPosition = z.strictObject({ q: z.string().regex(/^[1-9]\d{0,17}$/) });

function cursorFilters(filter: AuditEventFilter): CursorFilters {
  return { type: filter.type, actor: filter.actor, from: filter.from?.toISOString(), to: filter.to?.toISOString() };
}

/**
 * GET /v1/admin/audit-events: the audit log newest first, filtered by type, actor and time,
 * as keyset pages (`page`) or as one NDJSON export of every matching event (`openStream`).
 */
export function createListAuditEvents(deps: ListAuditEventsDeps) {
  async function start(caller: AdminCaller, input: AuditListQuery, ctx: RequestContext) {
    await deps.authorizer.requireInScope(caller, ADMIN_AUDIT_EVENT, 'all', 'list', ctx);
    const filter: AuditEventFilter = { type: input.type, actor: input.actor, from: input.from, to: input.to };
    const beforePosition = input.cursor === undefined ? null : deps.cursors.decode('audit-events', cursorFilters(filter), input.cursor, auditPosition).q;
    // A first page shows everything committed before the request; later pages only read below their cursor.
    if (beforePosition === null) await deps.sealPending();
    return { filter, beforePosition };
  }

  return {
    /** One page of at most `limit` events. */
    async page(caller: AdminCaller, input: AuditListQuery, ctx: RequestContext): Promise<AuditEventPageView> {
      const { filter, beforePosition } = await start(caller, input, ctx);
      const page = await deps.query.page(filter, beforePosition, input.limit);
      return {
        items: page.events.map(auditEventView),
        nextCursor: page.hasMore && page.lastPosition !== null ? deps.cursors.encode('audit-events', cursorFilters(filter), { q: page.lastPosition }) : null,
      };
    },

    /**
     * Authorizes and checks the cursor at once (so refusals are ordinary 4xx responses), then
     * hands back every matching event, read batch by batch as the consumer pulls; `limit` is ignored.
     */
    async openStream(caller: AdminCaller, input: AuditListQuery, ctx: RequestContext): Promise<AsyncGenerator<AuditEventView>> {
      const { filter, beforePosition } = await start(caller, input, ctx);
      const events = deps.query.stream(filter, beforePosition, deps.streamBatchSize);
      return (async function* views() {
        for await (const event of events) yield auditEventView(event);
      })();
    },
  };
}
