import { SignJWT } from 'jose';
import type { Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { KeyRing } from './key-ring.js';
import type { TokenOptions, TokenSubject } from './token-types.js';

/** Dependencies of signAccessToken. */
export interface SignAccessTokenDeps { keyRing: KeyRing; clock: Clock; ids: IdGenerator; options: TokenOptions }

/** Signs an RFC 9068 access token (`typ: at+jwt`) for a session with the ring's active key. */
export function createSignAccessToken(deps: SignAccessTokenDeps) {
  return async function signAccessToken(subject: TokenSubject, sessionId: string): Promise<string> {
    const { kid, alg, privateKey } = await deps.keyRing.signingKey();
    const nowSeconds = Math.floor(deps.clock.nowMs() / 1000);
    const claims: Record<string, unknown> = { sid: sessionId, roles: subject.roles };
    if (subject.tenant) claims.tenant = subject.tenant;
    return new SignJWT(claims)
      .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
      .setIssuer(deps.options.issuer)
      .setAudience(deps.options.audience)
      .setSubject(subject.id)
      .setJti(deps.ids.next())
      .setIssuedAt(nowSeconds)
      .setNotBefore(nowSeconds)
      .setExpirationTime(nowSeconds + deps.options.accessTtlSeconds)
      .sign(privateKey);
  };
}
