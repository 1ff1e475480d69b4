import { z } from 'zod';
import { userSchema } from '../../identity/index.js';

// Bounded so a query string cannot make the database (or a cursor check) do unbounded work.
const cursor = z.string().min(1).max(512).optional().describe('nextCursor of the previous page of the same query, unchanged');
const limit = z.coerce.number().int().min(1).max(200).default(50).describe('page size, 1-200');
const instant = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

/** A role name: lowercase, so `Admin` cannot pass for `admin` in a policy written by hand. */
export const roleNameSchema = z.string().regex(/^[a-z][a-z0-9._:-]{0,63}$/, 'must be 1-64 characters: a lowercase letter, then lowercase letters, digits, ".", "_", ":" or "-"');

/** `{id}` of the single-account routes. */
export const userIdParamsSchema = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a user id') });

/** GET /v1/admin/users query. */
export const userListQuerySchema = z.strictObject({
  query: z.string().max(128).optional().describe('case-insensitive substring of the email or the name'),
  cursor,
  limit,
});

/** GET /v1/admin/audit-events query. */
export const auditListQuerySchema = z.strictObject({
  type: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be an event type such as user.locked').optional(),
  actor: z.string().min(1).max(128).optional(),
  from: instant.optional().describe('inclusive lower bound on time (ISO 8601)'),
  to: instant.optional().describe('exclusive upper bound on time (ISO 8601)'),
  cursor,
  limit,
});

/** PUT /v1/admin/users/{id}/roles body: the complete new set of roles. */
export const rolesBodySchema = z.strictObject({
  roles: z.array(roleNameSchema).max(32).refine((roles) => new Set(roles).size === roles.length, 'must not repeat a role'),
});

/** The `user` of API.md plus `locked`, for administrators. */
export const adminUserSchema = userSchema.extend({ locked: z.boolean() });

/** `{user}` of the roles route. */
export const adminUserEnvelopeSchema = z.strictObject({ user: adminUserSchema });

/** A page of accounts. */
export const userPageSchema = z.strictObject({ items: z.array(adminUserSchema), nextCursor: z.string().nullable() });

/** The audit event of API.md. */
export const auditEventSchema = z.strictObject({
  id: z.string(),
  time: z.string(),
  type: z.string(),
  actor: z.string().optional(),
  subject: z.string().optional(),
  ip: z.string().optional(),
  userAgent: z.string().optional(),
  outcome: z.string(),
  requestId: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
});

/** A page of audit events (with `Accept: application/x-ndjson`, one event per line instead). */
export const auditPageSchema = z.strictObject({ items: z.array(auditEventSchema), nextCursor: z.string().nullable() });

/** GET /v1/admin/audit-events/verify response. */
export const chainVerificationSchema = z.strictObject({ ok: z.boolean(), checked: z.number().int(), firstBadId: z.string().optional() });
