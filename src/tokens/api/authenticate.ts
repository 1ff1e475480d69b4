import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemError } from '../../platform/errors/problem.js';
import type { Metrics } from '../../platform/observability/metrics.js';
import type { RequestLimiter } from '../../ratelimit/index.js';
import { rateLimitedProblem } from '../../ratelimit/index.js';
import { tokenProblems } from '../problems.js';
import type { SessionRevocations } from '../service/revocation.js';
import type { AccessClaims } from '../service/token-types.js';
import { TokenRejectedError } from '../service/verify-access-token.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Verified, unrevoked access-token claims; set by `app.authenticate`. */
    principal?: AccessClaims;
  }
  interface FastifyInstance {
    /** preHandler that admits only a valid, unrevoked bearer within its rate limit. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

/** What the authentication pipeline needs. */
export interface AuthenticateDeps {
  /** Claims of a valid token; synchronous for a cached one, so the common request awaits nothing for it. */
  verifyAccessToken: (token: string) => AccessClaims | Promise<AccessClaims>;
  revocations: SessionRevocations;
  requestLimiter: RequestLimiter;
  metrics: Metrics;
}

// RFC 6750 3: every refusal says Bearer, with the same error whatever the real reason (no oracle).
const INVALID = new ProblemError(tokenProblems.INVALID_TOKEN, { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
const MISSING = new ProblemError(tokenProblems.INVALID_TOKEN, { headers: { 'www-authenticate': 'Bearer' } });

/** Extracts the token of an `Authorization: Bearer` header (scheme case-insensitive, RFC 7235 2.1). */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header || header.length < 8) return undefined;
  if (header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = header.slice(7).trim();
  return token.length > 0 ? token : undefined;
}

/** The pipeline: verify (cached) -> revocation (local every request; the database while Redis is degraded) -> per-subject rate limit. */
export const authenticatePlugin = fp(async function authenticate(app: FastifyInstance, deps: AuthenticateDeps) {
  app.decorateRequest('principal', undefined);
  app.decorate('authenticate', async function authenticateRequest(request: FastifyRequest) {
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      deps.metrics.tokenFailures.inc({ reason: 'missing' });
      throw MISSING;
    }
    let claims: AccessClaims;
    try {
      const verified = deps.verifyAccessToken(token);
      claims = verified instanceof Promise ? await verified : verified;
    } catch (error) {
      if (!(error instanceof TokenRejectedError)) throw error;
      deps.metrics.tokenFailures.inc({ reason: error.reason });
      request.log.info({ reason: error.reason }, 'access token rejected');
      throw INVALID;
    }
    // Healthy: a boolean from the local set, no await. While shared state is degraded: a promise
    // answered by the database (a database failure then propagates as a 503, failing closed).
    const revoked = deps.revocations.isRevoked(claims.sid);
    if (revoked === true || (revoked !== false && await revoked)) {
      deps.metrics.tokenFailures.inc({ reason: 'revoked' });
      throw INVALID;
    }
    const refusal = await deps.requestLimiter.consume(claims.sub);
    if (refusal) {
      deps.metrics.rateLimitBlocks.inc({ limiter: refusal.limiter });
      throw rateLimitedProblem(refusal);
    }
    request.principal = claims;
  });
}, { name: 'portcullis-authenticate' });
