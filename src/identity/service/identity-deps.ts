import type { AuditLog } from '../../audit/index.js';
import type { LimitRefusal, LoginProtection } from '../../ratelimit/index.js';
import type { RequestContext } from '../../platform/request-context.js';
import type { TokenPair, TokenSubject, TokenTxStores } from '../../tokens/index.js';
import type { UserStore } from '../store/user-store.js';

/** The stores an identity transaction needs (the token stores too: login starts a session in the same transaction). */
export interface IdentityTxStores extends TokenTxStores {
  users: UserStore;
  audit: AuditLog;
}

/** Starts a session for an authenticated user inside the login transaction. */
export type StartSession = (stores: TokenTxStores, subject: TokenSubject, ctx: RequestContext) => Promise<TokenPair & { sessionId: string }>;

/** Records a limiter refusal (audit, throttled) and returns the 429 to throw. */
export type RefuseForRateLimit = (refusal: LimitRefusal, key: string, ctx: RequestContext, actor?: string) => Promise<Error>;

export type { LoginProtection };
