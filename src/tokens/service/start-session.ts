import type { RequestContext } from '../../platform/request-context.js';
import type { Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import { hashRefreshToken, newRefreshToken } from './refresh-token-secret.js';
import type { TokenOptions, TokenPair, TokenSubject, TokenTxStores } from './token-types.js';

/** Dependencies of startSession. */
export interface StartSessionDeps {
  clock: Clock;
  ids: IdGenerator;
  random: Random;
  options: TokenOptions;
  signAccessToken: (subject: TokenSubject, sessionId: string) => Promise<string>;
}

/** Creates a session with its first refresh token and access token, inside the caller's transaction. */
export function createStartSession(deps: StartSessionDeps) {
  return async function startSession(stores: TokenTxStores, subject: TokenSubject, _ctx: RequestContext): Promise<TokenPair & { sessionId: string }> {
    const now = deps.clock.nowMs();
    const sessionId = deps.ids.next();
    const absoluteExpiresAt = new Date(now + deps.options.sessionAbsoluteTtlSeconds * 1000);
    const idleExpiresAt = new Date(Math.min(now + deps.options.sessionIdleTtlSeconds * 1000, absoluteExpiresAt.getTime()));
    await stores.sessions.createSession({
      id: sessionId, userId: subject.id, createdAt: new Date(now), lastSeenAt: new Date(now), idleExpiresAt, absoluteExpiresAt, revokedAt: null, revokeReason: null,
    });
    const refreshToken = newRefreshToken(deps.random);
    await stores.sessions.insertRefreshToken({
      tokenHash: hashRefreshToken(refreshToken), sessionId, userId: subject.id, createdAt: new Date(now), expiresAt: idleExpiresAt, consumedAt: null,
    });
    const accessToken = await deps.signAccessToken(subject, sessionId);
    return { accessToken, tokenType: 'Bearer', expiresIn: deps.options.accessTtlSeconds, refreshToken, sessionId };
  };
}
