/** Public surface of the rate-limit module. */
export type { LimitRefusal } from './service/limit-decision.js';
export { rateLimitedProblem, refusalHeaders } from './service/limit-decision.js';
export type { LoginProtection, LoginProtectionOptions } from './service/login-protection.js';
export { createLoginProtection } from './service/login-protection.js';
export type { RequestLimiter } from './service/request-limiter.js';
export { createRequestLimiter } from './service/request-limiter.js';
export { createBlockedAuditThrottle } from './service/blocked-audit-throttle.js';
