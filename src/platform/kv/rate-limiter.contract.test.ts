/**
 * RateLimiter contract on every adapter: in-process always; Redis when REDIS_URL is set (required
 * when PORTCULLIS_REQUIRE_SERVICES=1), the concurrency test across two connections. Then what the
 * limits rely on when Redis fails: a Redis server of our own is killed and restarted under live
 * limiters.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { freePort } from '../../../test/fixtures/server-process.js';
import { connectRedisForTest, deleteRedisKeys, killProcess, ownRedisServerSkip, redisUrl as configuredRedisUrl, servicesRequired, startRedisServer } from '../../../test/fixtures/redis.js';
import { rateLimiterContract } from './rate-limiter.contract.js';
import { waitForRedisReady } from './redis-connection.js';
import { createRedisRateLimiterFactory } from './redis-rate-limiter.js';
import { memoryRateLimiterFactory } from './rlf-rate-limiter.js';

// A local const, so TypeScript keeps the narrowing inside callbacks.
const redisUrl = configuredRedisUrl;

rateLimiterContract('in-process', { factory: () => memoryRateLimiterFactory });

if (!redisUrl && servicesRequired) {
  describe('RateLimiter contract: Redis', () => {
    it('runs on Redis: PORTCULLIS_REQUIRE_SERVICES=1 forbids skipping it', () => {
      throw new Error('PORTCULLIS_REQUIRE_SERVICES=1 but REDIS_URL is not set');
    });
  });
}

if (redisUrl) {
  describe('Redis RateLimiter', () => {
    // Every key of this run lives under one random prefix, deleted in `after`.
    const runPrefix = `portcullis-test:${randomBytes(6).toString('hex')}:`;
    let admin: Redis;
    let first: Redis;
    let second: Redis;

    before(async () => {
      admin = connectRedisForTest(redisUrl, '');
      first = connectRedisForTest(redisUrl, runPrefix);
      second = connectRedisForTest(redisUrl, runPrefix);
      await Promise.all([admin, first, second].map((connection) => waitForRedisReady(connection, 5_000)));
    });

    after(async () => {
      await deleteRedisKeys(admin, runPrefix);
      await Promise.all([admin, first, second].map((connection) => connection.quit()));
    });

    rateLimiterContract('Redis', {
      factory: () => createRedisRateLimiterFactory(first),
      secondFactory: () => createRedisRateLimiterFactory(second),
    });

    rateLimiterContract('Redis with insurance limiter', {
      factory: () => createRedisRateLimiterFactory(first, { insuranceLimiter: true }),
      secondFactory: () => createRedisRateLimiterFactory(second, { insuranceLimiter: true }),
    });

    it('keeps its counts in Redis under <connection prefix><keyPrefix>:<key>, expiring with the window', async () => {
      const rl = createRedisRateLimiterFactory(first)({ keyPrefix: 'layout', points: 5, durationSeconds: 60 });
      await rl.consume('203.0.113.7', 2);
      assert.equal(await admin.get(`${runPrefix}layout:203.0.113.7`), '2');
      const ttl = await admin.pttl(`${runPrefix}layout:203.0.113.7`);
      assert.ok(ttl > 59_000 && ttl <= 60_000, String(ttl));
    });

    it('rounds a sub-second block up to one second instead of blocking for ever', async () => {
      const rl = createRedisRateLimiterFactory(first)({ keyPrefix: 'short-block', points: 5, durationSeconds: 60 });
      await rl.block('k', 0.2);
      const state = await rl.get('k');
      assert.equal(state?.limited, true);
      assert.ok(state && state.msBeforeNext > 0 && state.msBeforeNext <= 1_000, String(state?.msBeforeNext));
      for (const seconds of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        await assert.rejects(rl.block('k', seconds), RangeError, String(seconds));
      }
    });

    it('refuses a window that Redis would store without expiry', () => {
      for (const durationSeconds of [0, 0.5, 1.5, -1]) {
        assert.throws(() => createRedisRateLimiterFactory(first)({ keyPrefix: 'bad', points: 5, durationSeconds }), RangeError);
      }
    });
  });
}

const failureSkip = ownRedisServerSkip();

describe('Redis RateLimiter when Redis fails', { skip: failureSkip }, () => {
  const COMMAND_TIMEOUT_MS = 300;
  let port: number;
  let server: ChildProcess | undefined;
  let client: Redis | undefined;
  let admin: Redis | undefined;

  before(async () => {
    port = await freePort();
    server = await startRedisServer(port);
    client = connectRedisForTest(`redis://127.0.0.1:${port}`, 'failure:', COMMAND_TIMEOUT_MS);
    admin = connectRedisForTest(`redis://127.0.0.1:${port}`, '', COMMAND_TIMEOUT_MS);
    await Promise.all([client, admin].map((connection) => waitForRedisReady(connection, 5_000)));
  });

  after(async () => {
    for (const connection of [client, admin]) await connection?.quit().catch(() => connection.disconnect());
    await killProcess(server);
  });

  it('answers from the insurance limiter at once while Redis is down, and counts in Redis again within 5 s of its return', async () => {
    assert.ok(client && admin);
    const options = { keyPrefix: 'login', points: 3, durationSeconds: 60 };
    const insured = createRedisRateLimiterFactory(client, { insuranceLimiter: true })(options);
    const bare = createRedisRateLimiterFactory(client)(options);
    assert.equal((await insured.consume('k')).consumed, 1);
    assert.equal(await admin.get('failure:login:k'), '1');

    await killProcess(server);
    const start = performance.now();
    const during = [];
    for (let i = 0; i < 4; i++) during.push(await insured.consume('k'));
    const fallbackMs = performance.now() - start;
    // The insurance counts on its own, from zero: still a limit of `points` per instance.
    assert.deepEqual(during.map((state) => state.limited), [false, false, false, true]);
    assert.ok(fallbackMs < COMMAND_TIMEOUT_MS, `four fallbacks took ${fallbackMs.toFixed(0)} ms`);
    assert.equal((await insured.get('k'))?.consumed, 4);
    const bareStart = performance.now();
    await assert.rejects(bare.consume('k'));
    assert.ok(performance.now() - bareStart < COMMAND_TIMEOUT_MS + 200);

    server = await startRedisServer(port);
    const restart = performance.now();
    for (;;) {
      await insured.consume('after');
      if ((await admin.get('failure:login:after').catch(() => null)) !== null) break;
      assert.ok(performance.now() - restart < 5_000, 'still on the insurance 5 s after Redis restarted');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal((await bare.consume('k')).consumed, 1, 'the restarted (empty) Redis counts afresh');
  });
});
