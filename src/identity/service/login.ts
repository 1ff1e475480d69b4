import type { Clock } from '../../platform/clock.js';
import type { Transact } from '../../platform/db/transact.js';
import { ProblemError } from '../../platform/errors/problem.js';
import type { Metrics } from '../../platform/observability/metrics.js';
import type { RequestContext } from '../../platform/request-context.js';
import type { TokenPair } from '../../tokens/index.js';
import { identityProblems } from '../problems.js';
import type { UserStore } from '../store/user-store.js';
import type { IdentityTxStores, LoginProtection, RefuseForRateLimit, StartSession } from './identity-deps.js';
import { normalizeEmail } from './normalize-email.js';
import type { PasswordHasher } from './password-hasher.js';
import { normalizePassword } from './password-policy.js';

/** Dependencies of login. */
export interface LoginDeps {
  clock: Clock;
  users: UserStore;
  hasher: PasswordHasher;
  loginProtection: LoginProtection;
  refuseForRateLimit: RefuseForRateLimit;
  startSession: StartSession;
  transact: Transact<IdentityTxStores>;
  metrics: Metrics;
}

/** Login input after schema validation. */
export interface LoginInput { email: string; password: string; totp?: string | undefined }

type FailureReason = 'unknown_email' | 'bad_password' | 'locked' | 'bad_second_factor';

/**
 * Password login. Every failure gets the same 401 body and costs the same argon2 work (a dummy
 * verify for unknown emails); the real reason goes to the audit log and metrics only.
 */
export function createLogin(deps: LoginDeps) {
  async function fail(reason: FailureReason, email: string, userId: string | undefined, ctx: RequestContext): Promise<never> {
    deps.metrics.loginOutcomes.inc({ outcome: reason });
    const lockout = await deps.loginProtection.recordLoginFailure(email, ctx.ip);
    await deps.transact(({ audit }) => audit.record({
      type: 'auth.login.failed', outcome: 'failure', actor: userId ?? null, subject: userId ?? null,
      ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId, data: { email, reason },
    }));
    if (lockout) await deps.refuseForRateLimit(lockout, `${email}|${ctx.ip}`, ctx, userId);
    throw new ProblemError(identityProblems.INVALID_CREDENTIALS);
  }

  return async function login(input: LoginInput, ctx: RequestContext): Promise<TokenPair> {
    const email = normalizeEmail(input.email);
    const password = normalizePassword(input.password);
    const refusal = await deps.loginProtection.checkLogin(email, ctx.ip);
    if (refusal) {
      deps.metrics.loginOutcomes.inc({ outcome: 'rate_limited' });
      throw await deps.refuseForRateLimit(refusal, `${email}|${ctx.ip}`, ctx);
    }
    const user = await deps.users.findByEmail(email);
    if (!user) {
      await deps.hasher.verifyDummy(password);
      return fail('unknown_email', email, undefined, ctx);
    }
    if (!(await deps.hasher.verify(user.passwordHash, password))) return fail('bad_password', email, user.id, ctx);
    // Checked only after the password, so a locked account answers exactly like a wrong password.
    if (user.lockedAt) return fail('locked', email, user.id, ctx);
    if (user.mfaEnabled) {
      if (!input.totp) {
        deps.metrics.loginOutcomes.inc({ outcome: 'mfa_required' });
        throw new ProblemError(identityProblems.MFA_REQUIRED);
      }
      // No second factor can be enrolled yet (MFA enrolment is a later issue), so none can be verified.
      return fail('bad_second_factor', email, user.id, ctx);
    }
    await deps.loginProtection.recordLoginSuccess(email, ctx.ip);
    const rehash = deps.hasher.needsRehash(user.passwordHash) ? await deps.hasher.hash(password) : undefined;
    const pair = await deps.transact(async (stores) => {
      // Re-read under a share lock: an admin lock or role change either committed before this
      // (and is seen here) or waits for this commit (and then revokes the session started here).
      const current = await stores.users.findByIdForShare(user.id);
      if (!current || current.lockedAt) return undefined;
      const now = new Date(deps.clock.nowMs());
      if (rehash) await stores.users.updatePasswordHash(user.id, rehash, now);
      const started = await deps.startSession(stores, { id: current.id, roles: current.roles, tenant: current.tenant }, ctx);
      await stores.audit.record({
        type: 'auth.login.succeeded', outcome: 'success', actor: user.id, subject: user.id,
        ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId, data: { sessionId: started.sessionId, passwordRehashed: rehash !== undefined },
      });
      return started;
    });
    if (!pair) return fail('locked', email, user.id, ctx);
    deps.metrics.loginOutcomes.inc({ outcome: 'success' });
    return { accessToken: pair.accessToken, tokenType: pair.tokenType, expiresIn: pair.expiresIn, refreshToken: pair.refreshToken };
  };
}
