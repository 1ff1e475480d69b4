import { ProblemError } from '../../platform/errors/problem.js';
import { commonProblems } from '../../platform/errors/common-problems.js';

/** A refusal by one limiter, with what the client needs to back off. */
export interface LimitRefusal {
  limiter: string;
  retryAfterSeconds: number;
  /** Quota of the policy that refused (for the RateLimit-Policy header). */
  quota: number;
  windowSeconds: number;
}

/**
 * Headers for a refusal: Retry-After (RFC 9110) and the IETF RateLimit fields
 * (draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy: "name";q=;w=` and `RateLimit: "name";r=;t=`).
 */
export function refusalHeaders(refusal: LimitRefusal): Record<string, string> {
  return {
    'retry-after': String(refusal.retryAfterSeconds),
    'ratelimit-policy': `"${refusal.limiter}";q=${refusal.quota};w=${refusal.windowSeconds}`,
    ratelimit: `"${refusal.limiter}";r=0;t=${refusal.retryAfterSeconds}`,
  };
}

/** The 429 problem for a refusal. */
export function rateLimitedProblem(refusal: LimitRefusal): ProblemError {
  return new ProblemError(commonProblems.RATE_LIMITED, {
    detail: `Try again in ${refusal.retryAfterSeconds} seconds.`,
    headers: refusalHeaders(refusal),
  });
}

/** Whole seconds until `ms` has passed, at least 1 (Retry-After 0 invites a hot retry loop). */
export function secondsFromMs(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
