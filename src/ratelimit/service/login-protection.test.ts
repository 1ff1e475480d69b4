import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryRateLimiterFactory } from '../../platform/kv/rlf-rate-limiter.js';
import { refusalHeaders } from './limit-decision.js';
import { createLoginProtection, type LoginProtectionOptions } from './login-protection.js';

const options: LoginProtectionOptions = { maxConsecutiveFailures: 3, baseLockSeconds: 30, maxLockSeconds: 100, ipDailyFailures: 10, registration: { points: 2, durationSeconds: 3600 } };

describe('login protection', () => {
  it('locks an account+IP pair after the configured consecutive failures, with a doubling delay up to the cap', async () => {
    const protection = createLoginProtection(memoryRateLimiterFactory, options);
    assert.equal(await protection.recordLoginFailure('a@x.io', '1.1.1.1'), undefined);
    assert.equal(await protection.recordLoginFailure('a@x.io', '1.1.1.1'), undefined);
    assert.equal(await protection.checkLogin('a@x.io', '1.1.1.1'), undefined, 'two failures: still allowed');
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) delays.push((await protection.recordLoginFailure('a@x.io', '1.1.1.1'))!.retryAfterSeconds);
    assert.deepEqual(delays, [30, 60, 100, 100]);
    const refusal = await protection.checkLogin('a@x.io', '1.1.1.1');
    assert.equal(refusal?.limiter, 'login-account-ip');
    assert.ok(refusal!.retryAfterSeconds > 0 && refusal!.retryAfterSeconds <= 100);
  });

  it('keeps the lock to the attacking address: the same account from another IP is not refused', async () => {
    const protection = createLoginProtection(memoryRateLimiterFactory, options);
    for (let i = 0; i < 3; i++) await protection.recordLoginFailure('victim@x.io', '6.6.6.6');
    assert.ok(await protection.checkLogin('victim@x.io', '6.6.6.6'));
    assert.equal(await protection.checkLogin('victim@x.io', '2.2.2.2'), undefined);
  });

  it('forgets the failures of a pair after a success', async () => {
    const protection = createLoginProtection(memoryRateLimiterFactory, options);
    await protection.recordLoginFailure('b@x.io', '1.1.1.1');
    await protection.recordLoginFailure('b@x.io', '1.1.1.1');
    await protection.recordLoginSuccess('b@x.io', '1.1.1.1');
    assert.equal(await protection.recordLoginFailure('b@x.io', '1.1.1.1'), undefined);
    assert.equal(await protection.recordLoginFailure('b@x.io', '1.1.1.1'), undefined, 'counting starts again from zero');
  });

  it('caps failures per IP per day across accounts (credential stuffing)', async () => {
    const protection = createLoginProtection(memoryRateLimiterFactory, options);
    for (let i = 0; i < 10; i++) await protection.recordLoginFailure(`user${i}@x.io`, '9.9.9.9');
    const refusal = await protection.checkLogin('fresh@x.io', '9.9.9.9');
    assert.equal(refusal?.limiter, 'login-ip-daily');
    assert.equal(await protection.checkLogin('fresh@x.io', '8.8.8.8'), undefined);
  });

  it('limits registrations per IP', async () => {
    const protection = createLoginProtection(memoryRateLimiterFactory, options);
    assert.equal(await protection.consumeRegistration('3.3.3.3'), undefined);
    assert.equal(await protection.consumeRegistration('3.3.3.3'), undefined);
    const refusal = await protection.consumeRegistration('3.3.3.3');
    assert.equal(refusal?.limiter, 'register-ip');
    assert.equal(refusal?.quota, 2);
  });

  it('renders Retry-After and the IETF RateLimit fields', () => {
    assert.deepEqual(refusalHeaders({ limiter: 'login-account-ip', retryAfterSeconds: 30, quota: 5, windowSeconds: 86_400 }), {
      'retry-after': '30',
      'ratelimit-policy': '"login-account-ip";q=5;w=86400',
      ratelimit: '"login-account-ip";r=0;t=30',
    });
  });
});
