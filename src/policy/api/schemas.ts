import { z } from 'zod';

// Bounded so one request cannot make the engine (or the audit log) do unbounded work.
const attributes = z.record(z.string().max(128), z.unknown()).refine((a) => Object.keys(a).length <= 64, 'at most 64 attributes');
const name = z.string().min(1).max(256);

/** POST /v1/authz/check body (API.md "Authorization decisions"). */
export const checkBodySchema = z.strictObject({
  principal: z.strictObject({ id: name, roles: z.array(name).max(64), attr: attributes.optional() }),
  resource: z.strictObject({ kind: name, id: name, attr: attributes.optional() }),
  actions: z.array(name).min(1).max(50),
});

/** One decision as served: which policy and rule decided. */
export const decisionSchema = z.strictObject({ allow: z.boolean(), policy: z.string(), rule: z.string() });

/** POST /v1/authz/check response. */
export const checkResponseSchema = z.strictObject({ results: z.record(z.string(), decisionSchema) });
