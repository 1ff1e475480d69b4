/*
 * Two Portcullis instances sharing one database and one Redis: what one instance learns
 * (a logout, a brute-force attempt) must bind the other at once. Runs when REDIS_URL is set,
 * and must run (fails otherwise) under PORTCULLIS_REQUIRE_SERVICES=1.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import type { Database } from '../../src/platform/db/database.js';
import { createPgliteTestDatabase } from '../fixtures/database.js';
import { connectRedisForTest, deleteRedisKeys, redisUrl as configuredRedisUrl, servicesRequired } from '../fixtures/redis.js';
import { createTestApp, GOOD_PASSWORD, json, registerAndLogin, type TestApp } from '../fixtures/test-app.js';

const redisUrl = configuredRedisUrl;

if (!redisUrl && servicesRequired) {
  describe('shared state across instances', () => {
    it('runs on Redis: PORTCULLIS_REQUIRE_SERVICES=1 forbids skipping it', () => {
      throw new Error('PORTCULLIS_REQUIRE_SERVICES=1 but REDIS_URL is not set');
    });
  });
}

describe('two instances sharing PostgreSQL-compatible storage and Redis', { skip: redisUrl ? false : 'REDIS_URL is not set' }, () => {
  const keyPrefix = `portcullis-test-${randomBytes(5).toString('hex')}:`;
  const masterKey = randomBytes(32);
  let database: Database;
  let a: TestApp;
  let b: TestApp;
  let admin: Redis;

  before(async () => {
    database = await createPgliteTestDatabase();
    const env = { REDIS_URL: redisUrl!, PORTCULLIS_REDIS__KEY_PREFIX: keyPrefix, PORTCULLIS_LOGIN_PROTECTION__MAX_CONSECUTIVE_FAILURES: '4' };
    a = await createTestApp({ database, masterKey, env });
    b = await createTestApp({ database, masterKey, env, startMs: a.clock.nowMs() });
    admin = connectRedisForTest(redisUrl!, '');
  });
  after(async () => {
    await a.close();
    await b.close();
    await database.close();
    await deleteRedisKeys(admin, keyPrefix);
    await admin.quit();
  });

  it('reports Redis in /readyz', async () => {
    const res = await a.app.inject({ url: '/readyz' });
    assert.deepEqual(json(res), { status: 'ready', checks: { database: 'ok', redis: 'ok' } });
  });

  it('refuses on instance B, within 100 ms, an access token logged out on instance A', async () => {
    const s = await registerAndLogin(a.app);
    const auth = { authorization: `Bearer ${s.accessToken}` };
    assert.equal((await b.app.inject({ url: '/v1/auth/whoami', headers: auth })).statusCode, 200, 'B has it cached as valid');
    assert.equal((await a.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: auth })).statusCode, 204);
    const started = performance.now();
    for (;;) {
      if ((await b.app.inject({ url: '/v1/auth/whoami', headers: auth })).statusCode === 401) break;
      assert.ok(performance.now() - started < 100, 'B still accepts the token 100 ms after logout on A');
      await new Promise((r) => setTimeout(r, 5));
    }
  });

  it('trips the account lock at exactly the configured count with failures spread over both instances', async () => {
    const s = await registerAndLogin(a.app, undefined, GOOD_PASSWORD, '10.7.7.7');
    const attempt = (t: TestApp, password: string) =>
      t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: s.email, password }, remoteAddress: '10.7.7.7' });
    const statuses = [];
    for (const t of [a, b, a, b]) statuses.push((await attempt(t, 'wrong password, spread out')).statusCode);
    assert.deepEqual(statuses, [401, 401, 401, 401]);
    const locked = await attempt(a, GOOD_PASSWORD);
    assert.equal(locked.statusCode, 429);
    assert.equal((await attempt(b, GOOD_PASSWORD)).statusCode, 429, 'both instances see the lock');
  });
});
