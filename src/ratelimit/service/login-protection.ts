import type { RateLimiterFactory } from '../../platform/kv/rate-limiter.js';
import { type LimitRefusal, secondsFromMs } from './limit-decision.js';

/** Limits from config (loginProtection.*). */
export interface LoginProtectionOptions {
  maxConsecutiveFailures: number;
  baseLockSeconds: number;
  maxLockSeconds: number;
  ipDailyFailures: number;
  registration: { points: number; durationSeconds: number };
}

/** Brute-force and credential-stuffing defence for login and registration. */
export interface LoginProtection {
  /** Refusal when this account+IP is locked out or this IP spent its daily failures; reads only, counts nothing. */
  checkLogin(email: string, ip: string): Promise<LimitRefusal | undefined>;
  /** Counts a failure; returns the lock-out imposed by it, if any. */
  recordLoginFailure(email: string, ip: string): Promise<LimitRefusal | undefined>;
  /** A success forgets the account+IP failures (the IP's daily count stays). */
  recordLoginSuccess(email: string, ip: string): Promise<void>;
  /** Counts a registration attempt from `ip`; refusal when over the limit. */
  consumeRegistration(ip: string): Promise<LimitRefusal | undefined>;
}

const DAY_SECONDS = 86_400;

/**
 * Keys are account+IP, never account alone: an attacker who fails from their addresses
 * locks only those addresses out of the account, so the real user can still log in from theirs.
 * Lock-outs grow: base * 2^(failures - max), capped.
 */
export function createLoginProtection(limiters: RateLimiterFactory, options: LoginProtectionOptions): LoginProtection {
  const failures = limiters({ keyPrefix: 'login:fail:acct-ip', points: options.maxConsecutiveFailures, durationSeconds: DAY_SECONDS });
  const lockouts = limiters({ keyPrefix: 'login:lock:acct-ip', points: 1, durationSeconds: options.maxLockSeconds });
  const ipFailures = limiters({ keyPrefix: 'login:fail:ip', points: options.ipDailyFailures, durationSeconds: DAY_SECONDS });
  const registrations = limiters({ keyPrefix: 'register:ip', points: options.registration.points, durationSeconds: options.registration.durationSeconds });
  const accountIpKey = (email: string, ip: string) => `${email}|${ip}`;

  const lockRefusal = (ms: number): LimitRefusal => ({
    limiter: 'login-account-ip', retryAfterSeconds: secondsFromMs(ms), quota: options.maxConsecutiveFailures, windowSeconds: DAY_SECONDS,
  });
  const ipRefusal = (ms: number): LimitRefusal => ({
    limiter: 'login-ip-daily', retryAfterSeconds: secondsFromMs(ms), quota: options.ipDailyFailures, windowSeconds: DAY_SECONDS,
  });

  return {
    async checkLogin(email, ip) {
      const [lock, ipState] = await Promise.all([lockouts.get(accountIpKey(email, ip)), ipFailures.get(ip)]);
      if (lock?.limited) return lockRefusal(lock.msBeforeNext);
      if (ipState && ipState.consumed >= options.ipDailyFailures) return ipRefusal(ipState.msBeforeNext);
      return undefined;
    },
    async recordLoginFailure(email, ip) {
      const key = accountIpKey(email, ip);
      const [state] = await Promise.all([failures.consume(key), ipFailures.consume(ip)]);
      if (state.consumed < options.maxConsecutiveFailures) return undefined;
      const exponent = Math.min(30, state.consumed - options.maxConsecutiveFailures);
      const lockSeconds = Math.min(options.maxLockSeconds, options.baseLockSeconds * 2 ** exponent);
      await lockouts.block(key, lockSeconds);
      return lockRefusal(lockSeconds * 1000);
    },
    async recordLoginSuccess(email, ip) {
      const key = accountIpKey(email, ip);
      await Promise.all([failures.delete(key), lockouts.delete(key)]);
    },
    async consumeRegistration(ip) {
      const state = await registrations.consume(ip);
      if (!state.limited) return undefined;
      return {
        limiter: 'register-ip', retryAfterSeconds: secondsFromMs(state.msBeforeNext),
        quota: options.registration.points, windowSeconds: options.registration.durationSeconds,
      };
    },
  };
}
