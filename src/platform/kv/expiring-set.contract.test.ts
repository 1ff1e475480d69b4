/**
 * ExpiringSet contract on every adapter: in-process always; Redis when REDIS_URL is set (required
 * when PORTCULLIS_REQUIRE_SERVICES=1). Then what revocation checks rely on when Redis fails: a
 * Redis server of our own is killed and restarted under a live set.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { freePort } from '../../../test/fixtures/server-process.js';
import { redisExpiringSetTarget } from '../../../test/fixtures/redis-expiring-set-target.js';
import { connectRedisForTest, deleteRedisKeys, killProcess, ownRedisServerSkip, redisUrl as configuredRedisUrl, servicesRequired, startRedisServer } from '../../../test/fixtures/redis.js';
import { createManualClock } from '../clock.js';
import { expiringSetContract } from './expiring-set.contract.js';
import { createMemoryExpiringSet } from './memory-expiring-set.js';
import { duplicateForSubscriber, waitForRedisReady } from './redis-connection.js';
import { createRedisExpiringSet } from './redis-expiring-set.js';

// A local const, so TypeScript keeps the narrowing inside callbacks.
const redisUrl = configuredRedisUrl;
const ignoreErrors = () => {};

expiringSetContract('in-process', {
  createBackend: (clock) => ({ open: async () => createMemoryExpiringSet(clock) }),
  noSecondInstance: 'in-process adapter has no second instance',
});

if (!redisUrl && servicesRequired) {
  describe('ExpiringSet contract: Redis', () => {
    it('runs on Redis: PORTCULLIS_REQUIRE_SERVICES=1 forbids skipping it', () => {
      throw new Error('PORTCULLIS_REQUIRE_SERVICES=1 but REDIS_URL is not set');
    });
  });
}

if (redisUrl) {
  describe('Redis ExpiringSet', () => {
    // Every key of this run lives under one random prefix, deleted in `after`.
    const runPrefix = `portcullis-test:${randomBytes(6).toString('hex')}:`;
    const connections: Redis[] = [];
    let admin: Redis;
    let a: { client: Redis; subscriber: Redis };
    let b: { client: Redis; subscriber: Redis };

    before(async () => {
      admin = connectRedisForTest(redisUrl, '');
      const open = () => {
        const client = connectRedisForTest(redisUrl, runPrefix);
        const subscriber = duplicateForSubscriber(client, ignoreErrors);
        return { client, subscriber };
      };
      a = open();
      b = open();
      connections.push(admin, a.client, a.subscriber, b.client, b.subscriber);
      await Promise.all(connections.map((connection) => waitForRedisReady(connection, 5_000)));
    });

    after(async () => {
      await deleteRedisKeys(admin, runPrefix);
      await Promise.all(connections.map((connection) => connection.quit()));
    });

    expiringSetContract('Redis', redisExpiringSetTarget(runPrefix, () => ({ a, b })));

    it('reloads members it was never told about when its subscription reconnects', async () => {
      const clock = createManualClock();
      const id = randomBytes(6).toString('hex');
      const set = await createRedisExpiringSet({ ...a, channel: `${runPrefix}reload:${id}`, keyPrefix: `reload:${id}`, clock });
      try {
        // Written behind the adapter's back (no PUBLISH): only a reload can reveal it.
        await admin.zadd(`${runPrefix}reload:${id}:members`, clock.nowMs() + 60_000, 'silent');
        assert.equal(set.has('silent'), false);
        a.subscriber.disconnect(true);
        const start = performance.now();
        while (!set.has('silent')) {
          assert.ok(performance.now() - start < 5_000, 'not reloaded within 5 s');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      } finally {
        await set.close();
      }
    });

    it('writes and publishes the members its source of truth holds and Redis lacks, before it reports in sync', async () => {
      const clock = createManualClock();
      const id = randomBytes(6).toString('hex');
      const deps = { channel: `${runPrefix}reconcile:${id}`, keyPrefix: `reconcile:${id}`, clock };
      const other = await createRedisExpiringSet({ ...deps, ...b });
      let calls = 0;
      const set = await createRedisExpiringSet({
        ...deps, ...a, onError: ignoreErrors,
        reconcile: async () => {
          // The first attempt fails (the database is briefly unreachable): the load is retried.
          if (++calls === 1) throw new Error('database unavailable');
          return [['from-db', clock.nowMs() + 60_000], ['expired-in-db', clock.nowMs() - 1]];
        },
      });
      try {
        assert.equal(calls, 2);
        assert.equal(set.isInSync(), true);
        assert.equal(set.has('from-db'), true);
        assert.equal(set.has('expired-in-db'), false);
        assert.equal(Number(await admin.zscore(`${runPrefix}reconcile:${id}:members`, 'from-db')), clock.nowMs() + 60_000);
        assert.equal(await admin.zscore(`${runPrefix}reconcile:${id}:members`, 'expired-in-db'), null);
        const start = performance.now();
        while (!other.has('from-db')) {
          assert.ok(performance.now() - start < 1_000, 'the other instance did not hear of it within 1 s');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        await set.close();
        await other.close();
      }
    });

    it('prunes members long expired from Redis on its sweep, and keeps the live ones', async () => {
      const clock = createManualClock();
      const id = randomBytes(6).toString('hex');
      const key = `${runPrefix}prune:${id}:members`;
      const set = await createRedisExpiringSet({ ...a, channel: `${runPrefix}prune:${id}`, keyPrefix: `prune:${id}`, clock, sweepEveryMs: 20 });
      try {
        await set.add('old', clock.nowMs() + 1_000);
        await set.add('live', clock.nowMs() + 3_600_000);
        clock.advanceMs(1_000 + 60_000);
        const start = performance.now();
        while ((await admin.zscore(key, 'old')) !== null) {
          assert.ok(performance.now() - start < 2_000, 'not pruned within 2 s');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.notEqual(await admin.zscore(key, 'live'), null);
      } finally {
        await set.close();
      }
    });
  });
}

const failureSkip = ownRedisServerSkip();

describe('Redis ExpiringSet when Redis fails', { skip: failureSkip }, () => {
  const COMMAND_TIMEOUT_MS = 300;
  let port: number;
  let server: ChildProcess | undefined;
  const connections: Redis[] = [];

  before(async () => {
    port = await freePort();
    server = await startRedisServer(port);
  });

  after(async () => {
    await Promise.all(connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
    await killProcess(server);
  });

  it('reports out of sync while Redis is down, keeps a failed add, and delivers it to the other instances once Redis is back', async () => {
    const url = `redis://127.0.0.1:${port}`;
    const open = () => {
      const client = connectRedisForTest(url, 'retry:', COMMAND_TIMEOUT_MS);
      const subscriber = duplicateForSubscriber(client, ignoreErrors);
      connections.push(client, subscriber);
      return { client, subscriber };
    };
    const first = open();
    const second = open();
    await Promise.all([first, second].flatMap((c) => [waitForRedisReady(c.client, 5_000), waitForRedisReady(c.subscriber, 5_000)]));
    const clock = createManualClock();
    const deps = { channel: 'retry:revoked', keyPrefix: 'revoked', clock, onError: ignoreErrors, retryUnpublishedMs: 100 };
    const writer = await createRedisExpiringSet({ ...deps, ...first });
    const reader = await createRedisExpiringSet({ ...deps, ...second });
    try {
      assert.equal(reader.isInSync(), true);
      await killProcess(server);
      const down = performance.now();
      while (reader.isInSync()) {
        assert.ok(performance.now() - down < 1_000, 'still reported in sync 1 s after Redis died');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await assert.rejects(writer.add('during-outage', clock.nowMs() + 60_000));
      assert.equal(reader.has('during-outage'), false);

      server = await startRedisServer(port);
      const restart = performance.now();
      // Nobody adds it again: the writer's retry must deliver it (the restarted Redis is empty).
      while (!reader.has('during-outage') || !reader.isInSync()) {
        assert.ok(performance.now() - restart < 5_000, 'not delivered and in sync within 5 s of the restart');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it('rejects add within the command timeout, answers has from its mirror, and reloads once Redis is back', async () => {
    const url = `redis://127.0.0.1:${port}`;
    const client = connectRedisForTest(url, 'failure:', COMMAND_TIMEOUT_MS);
    const subscriber = duplicateForSubscriber(client, ignoreErrors);
    const admin = connectRedisForTest(url, '', COMMAND_TIMEOUT_MS);
    connections.push(client, subscriber, admin);
    await Promise.all(connections.map((connection) => waitForRedisReady(connection, 5_000)));
    const clock = createManualClock();
    const set = await createRedisExpiringSet({ client, subscriber, channel: 'failure:revoked', keyPrefix: 'revoked', clock });
    try {
      await set.add('before-outage', clock.nowMs() + 60_000);

      await killProcess(server);
      const addStart = performance.now();
      await assert.rejects(set.add('during-outage', clock.nowMs() + 60_000));
      const addMs = performance.now() - addStart;
      assert.ok(addMs < COMMAND_TIMEOUT_MS + 200, `add took ${addMs.toFixed(0)} ms to reject`);
      assert.equal(set.has('before-outage'), true);
      assert.equal(set.has('during-outage'), true, 'a revocation known locally is kept');
      assert.equal(set.has('never-added'), false);

      server = await startRedisServer(port);
      const restart = performance.now();
      for (;;) {
        try {
          await set.add('after-restart', clock.nowMs() + 60_000);
          break;
        } catch {
          assert.ok(performance.now() - restart < 5_000, 'add still failing 5 s after Redis restarted');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      // The restarted server is empty. A member written without PUBLISH, then a dropped subscription
      // (whether or not ours had already reconnected), must come back through the reload.
      await waitForRedisReady(admin, 5_000);
      await admin.zadd('failure:revoked:members', clock.nowMs() + 60_000, 'written-elsewhere');
      await admin.client('KILL', 'TYPE', 'PUBSUB');
      while (!set.has('written-elsewhere')) {
        assert.ok(performance.now() - restart < 5_000, 'set did not reload within 5 s of the restart');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(set.has('before-outage'), true);
    } finally {
      await set.close();
    }
  });
});
