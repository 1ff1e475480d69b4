import { z } from 'zod';
import type { AuditLog } from '../../audit/index.js';
import { identityProblems, normalizeEmail, normalizePassword, type PasswordHasher, type UserRecord, type UserStore } from '../../identity/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Transact } from '../../platform/db/transact.js';
import { commonProblems } from '../../platform/errors/common-problems.js';
import { ProblemError } from '../../platform/errors/problem.js';
import type { IdGenerator } from '../../platform/ids.js';

/** Dependencies of createAdmin. */
export interface CreateAdminDeps {
  clock: Clock;
  ids: IdGenerator;
  hasher: PasswordHasher;
  /** The very policy registration applies. */
  passwordPolicy: { check(password: string, context: { email: string }): { violations: string[]; messages: string[] } };
  transact: Transact<{ users: Pick<UserStore, 'insert'>; audit: AuditLog }>;
}

/** What `portcullis admin create` passes. */
export interface CreateAdminInput {
  email: string;
  password: string;
  tenant?: string | undefined;
}

/** Roles of a bootstrapped administrator: `user` like every account, plus `admin`. */
export const BOOTSTRAP_ADMIN_ROLES: readonly string[] = ['user', 'admin'];

const inputSchema = z.strictObject({
  email: z.email().max(254),
  tenant: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_", ":" or "-"').optional(),
});

/**
 * Creates an administrator from the command line (the bootstrap: the HTTP API grants roles only
 * to callers who already are admins). The password policy, normalisation and hashing are
 * registration's; the account and its `user.registered` event (data.bootstrap true) are written
 * in one transaction.
 */
export function createCreateAdmin(deps: CreateAdminDeps) {
  return async function createAdmin(input: CreateAdminInput): Promise<UserRecord> {
    const parsed = inputSchema.safeParse({ email: input.email, ...(input.tenant === undefined ? {} : { tenant: input.tenant }) });
    if (!parsed.success) {
      throw new ProblemError(commonProblems.VALIDATION_FAILED, {
        errors: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
      });
    }
    const email = normalizeEmail(parsed.data.email);
    const password = normalizePassword(input.password);
    const check = deps.passwordPolicy.check(password, { email });
    if (check.violations.length > 0) {
      throw new ProblemError(identityProblems.WEAK_PASSWORD, { errors: check.messages.map((message) => ({ path: 'password', message })) });
    }
    const now = new Date(deps.clock.nowMs());
    const user: UserRecord = {
      id: deps.ids.next(), email, name: null, passwordHash: await deps.hasher.hash(password), roles: [...BOOTSTRAP_ADMIN_ROLES],
      tenant: parsed.data.tenant ?? null, mfaEnabled: false, lockedAt: null, createdAt: now, updatedAt: now,
    };
    const created = await deps.transact(async ({ users, audit }) => {
      if ((await users.insert(user)) === 'email_taken') return false;
      await audit.record({
        type: 'user.registered', outcome: 'success', actor: null, subject: user.id,
        data: { email, roles: user.roles, tenant: user.tenant, bootstrap: true },
      });
      return true;
    });
    if (!created) throw new ProblemError(identityProblems.EMAIL_TAKEN);
    return user;
  };
}
