import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ChainVerification } from '../../audit/index.js';
import type { UserRecord } from '../../identity/index.js';
import type { RequestContext } from '../../platform/request-context.js';
import type { AdminCaller } from '../service/admin-types.js';
import { toAdminUserView } from '../service/admin-user-view.js';
import type { AuditEventView } from '../../audit/index.js';
import type { AuditEventPageView, AuditListQuery } from '../service/list-audit-events.js';
import type { UserListQuery, UserPage } from '../service/list-users.js';
import {
  adminUserEnvelopeSchema, auditListQuerySchema, auditPageSchema, chainVerificationSchema, rolesBodySchema, userIdParamsSchema,
  userListQuerySchema, userPageSchema,
} from './schemas.js';

type SingleUserAction = (caller: AdminCaller, userId: string, ctx: RequestContext) => Promise<void>;

/** What the admin routes call. */
export interface AdminRoutesDeps {
  listUsers: (caller: AdminCaller, input: UserListQuery, ctx: RequestContext) => Promise<UserPage>;
  changeRoles: (caller: AdminCaller, userId: string, roles: readonly string[], ctx: RequestContext) => Promise<UserRecord>;
  lockUser: SingleUserAction;
  unlockUser: SingleUserAction;
  revokeUserSessions: SingleUserAction;
  listAuditEvents: {
    page(caller: AdminCaller, input: AuditListQuery, ctx: RequestContext): Promise<AuditEventPageView>;
    openStream(caller: AdminCaller, input: AuditListQuery, ctx: RequestContext): Promise<AsyncGenerator<AuditEventView>>;
  };
  verifyAuditLog: (caller: AdminCaller, ctx: RequestContext) => Promise<ChainVerification>;
  requestContext: (request: FastifyRequest) => RequestContext;
}

const NDJSON = 'application/x-ndjson';

function callerOf(request: FastifyRequest): AdminCaller {
  const p = request.principal!;
  return { sub: p.sub, roles: p.roles, tenant: p.tenant };
}

// Exact media type match (parameters and q-values aside): anything else gets the JSON pages.
function wantsNdjson(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  if (typeof accept !== 'string') return false;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    return type === NDJSON && !params.some((p) => /^q=0(\.0*)?$/.test(p));
  });
}

async function* ndjsonLines(events: AsyncGenerator<AuditEventView>): AsyncGenerator<string> {
  for await (const event of events) yield `${JSON.stringify(event)}\n`;
}

/** The admin API of API.md "Administration"; every route authenticates, then asks the policy engine. */
export async function adminRoutes(app: FastifyInstance, deps: AdminRoutesDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const security = [{ bearer: [] }];
  // Account lists and audit entries are personal data: no shared or browser cache may keep them.
  app.addHook('onRequest', async (_request, reply) => { reply.header('cache-control', 'no-store'); });

  r.get('/v1/admin/users', {
    schema: {
      tags: ['admin'], summary: 'List accounts, newest first (keyset pages)', security,
      querystring: userListQuerySchema, response: { 200: userPageSchema },
    },
    preHandler: app.authenticate,
  }, async (request) => deps.listUsers(callerOf(request), request.query, deps.requestContext(request)));

  r.put('/v1/admin/users/:id/roles', {
    schema: {
      tags: ['admin'], summary: "Replace an account's roles (audited; removing a role revokes its sessions)", security,
      params: userIdParamsSchema, body: rolesBodySchema, response: { 200: adminUserEnvelopeSchema },
    },
    preHandler: app.authenticate,
  }, async (request) => {
    const user = await deps.changeRoles(callerOf(request), request.params.id, request.body.roles, deps.requestContext(request));
    return { user: toAdminUserView(user) };
  });

  const singleUserRoutes: Array<['post' | 'delete', string, string, SingleUserAction]> = [
    ['post', '/v1/admin/users/:id/lock', 'Lock an account: login and refresh fail, every session is revoked', deps.lockUser],
    ['post', '/v1/admin/users/:id/unlock', 'Unlock an account', deps.unlockUser],
    ['delete', '/v1/admin/users/:id/sessions', 'Revoke every session of an account', deps.revokeUserSessions],
  ];
  for (const [method, url, summary, action] of singleUserRoutes) {
    r[method](url, {
      schema: { tags: ['admin'], summary, security, params: userIdParamsSchema },
      preHandler: app.authenticate,
    }, async (request, reply) => {
      await action(callerOf(request), request.params.id, deps.requestContext(request));
      return reply.code(204).send();
    });
  }

  r.get('/v1/admin/audit-events', {
    schema: {
      tags: ['admin'], security, querystring: auditListQuerySchema, response: { 200: auditPageSchema },
      summary: 'Audit events newest first; with Accept: application/x-ndjson, every matching event as one JSON object per line',
    },
    preHandler: app.authenticate,
  }, async (request, reply) => {
    const caller = callerOf(request);
    const ctx = deps.requestContext(request);
    if (!wantsNdjson(request)) return deps.listAuditEvents.page(caller, request.query, ctx);
    const events = await deps.listAuditEvents.openStream(caller, request.query, ctx);
    // Readable.from pulls the next line only when the socket drains: one batch in memory at a time.
    // A stream bypasses the JSON serializer, which the typed reply cannot express.
    return reply.type(`${NDJSON}; charset=utf-8`).send(Readable.from(ndjsonLines(events)) as never);
  });

  r.get('/v1/admin/audit-events/verify', {
    schema: { tags: ['admin'], summary: 'Check the audit hash chain', security, response: { 200: chainVerificationSchema } },
    preHandler: app.authenticate,
  }, async (request) => deps.verifyAuditLog(callerOf(request), deps.requestContext(request)));
}
