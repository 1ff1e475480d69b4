import type { Clock } from '../../platform/clock.js';
import type { Transact } from '../../platform/db/transact.js';
import { ProblemError } from '../../platform/errors/problem.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { RequestContext } from '../../platform/request-context.js';
import { identityProblems } from '../problems.js';
import type { UserRecord } from '../store/user-store.js';
import type { IdentityTxStores, LoginProtection, RefuseForRateLimit } from './identity-deps.js';
import { normalizeEmail } from './normalize-email.js';
import type { PasswordHasher } from './password-hasher.js';
import { normalizePassword, type PasswordCheck } from './password-policy.js';

/** Dependencies of registerUser. */
export interface RegisterUserDeps {
  clock: Clock;
  ids: IdGenerator;
  hasher: PasswordHasher;
  passwordPolicy: { check(password: string, context: { email: string }): PasswordCheck };
  loginProtection: LoginProtection;
  refuseForRateLimit: RefuseForRateLimit;
  transact: Transact<IdentityTxStores>;
}

/** Registration input after schema validation. */
export interface RegisterInput { email: string; password: string; name?: string | undefined }

/** The role every new account gets; no request can choose another. */
export const DEFAULT_ROLES: readonly string[] = ['user'];

/** Creates an account: rate-limited per IP, password policy enforced, audited in the same transaction. */
export function createRegisterUser(deps: RegisterUserDeps) {
  return async function registerUser(input: RegisterInput, ctx: RequestContext): Promise<UserRecord> {
    const refusal = await deps.loginProtection.consumeRegistration(ctx.ip);
    if (refusal) throw await deps.refuseForRateLimit(refusal, ctx.ip, ctx);
    const email = normalizeEmail(input.email);
    const password = normalizePassword(input.password);
    const check = deps.passwordPolicy.check(password, { email });
    if (check.violations.length > 0) {
      throw new ProblemError(identityProblems.WEAK_PASSWORD, {
        errors: check.messages.map((message) => ({ path: 'password', message })),
      });
    }
    const now = new Date(deps.clock.nowMs());
    const user: UserRecord = {
      id: deps.ids.next(), email, name: input.name ?? null, passwordHash: await deps.hasher.hash(password),
      roles: [...DEFAULT_ROLES], tenant: null, mfaEnabled: false, lockedAt: null, createdAt: now, updatedAt: now,
    };
    const created = await deps.transact(async ({ users, audit }) => {
      if ((await users.insert(user)) === 'email_taken') return false;
      await audit.record({
        type: 'user.registered', outcome: 'success', actor: user.id, subject: user.id,
        ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId, data: { email },
      });
      return true;
    });
    if (!created) throw new ProblemError(identityProblems.EMAIL_TAKEN);
    return user;
  };
}
