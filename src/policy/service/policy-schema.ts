import { z } from 'zod';

// Names are single tokens: no spaces, so reports and YAML lists stay unambiguous.
// Kinds and actions may carry ':' and '.' (`admin:user`, `audit-event.read`).
const kindName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must be a name such as document or admin:user');
const actionName = z.string().regex(/^(\*|[A-Za-z0-9][A-Za-z0-9._:-]*)$/, 'must be an action name or *');
const roleName = z.string().regex(/^(\*|[A-Za-z0-9][A-Za-z0-9._:-]*)$/, 'must be a role name or *');
const localName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a name of letters, digits, ".", "_" or "-"');
const condition = z.string().trim().min(1, 'must be a CEL expression');

const derivedRoleSchema = z.strictObject({
  name: localName,
  parentRoles: z.array(roleName).min(1, 'must list at least one role; leave it out to allow any role').optional(),
  condition: condition.optional(),
});

const ruleSchema = z.strictObject({
  name: localName,
  actions: z.array(actionName).min(1, 'must list at least one action, or *'),
  effect: z.enum(['allow', 'deny']),
  // An empty list would read as "nobody" to some and "everybody" to others; require a choice.
  roles: z.array(roleName).min(1, 'must list at least one role; leave it out to match any principal').optional(),
  derivedRoles: z.array(localName).min(1, 'must list at least one derived role, or be left out').optional(),
  condition: condition.optional(),
});

/** The schema of one policy file (`apiVersion: portcullis/v1`, one `resourcePolicy`); strict: unknown keys are errors. */
export const policyFileSchema = z.strictObject({
  apiVersion: z.literal('portcullis/v1'),
  resourcePolicy: z.strictObject({
    resource: kindName,
    version: localName.default('default'),
    derivedRoles: z.array(derivedRoleSchema).optional(),
    rules: z.array(ruleSchema).min(1, 'must hold at least one rule'),
    tenantIsolation: z.boolean().optional(),
  }),
});

/** A policy file as validated, before names are resolved and conditions compiled. */
export type PolicyFile = z.output<typeof policyFileSchema>;
