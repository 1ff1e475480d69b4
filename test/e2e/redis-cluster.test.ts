/*
 * Redis Cluster end to end, on processes of our own (three masters sharing the slots; the shared
 * Redis is never touched): the shared-state contracts that single-node Redis passes (limits, the
 * revocation set and its pub/sub mirror, BullMQ) pass unchanged through a `redis+cluster://` URL,
 * with limit keys spread over the nodes and every key of a BullMQ queue in one slot; a real
 * `portcullis serve` pointed at it registers, logs in and out, reports ready and relays its audit
 * events to BullMQ, where a real `portcullis worker` consumes them. Then the node holding a
 * revocation mirror's subscription dies: the mirror subscribes on another node, reloads, and
 * hears the other instance again.
 * Runs when REDIS_URL is set (Redis tests on) and redis-server and redis-cli are on PATH; the
 * serve part also needs DATABASE_URL. Under PORTCULLIS_REQUIRE_SERVICES=1 nothing skips.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from 'ioredis';
import { createManualClock } from '../../src/platform/clock.js';
import { createRedisConnection, duplicateForSubscriber, isRedisCluster, type RedisClient, waitForRedisReady } from '../../src/platform/kv/redis-connection.js';
import { createRedisExpiringSet } from '../../src/platform/kv/redis-expiring-set.js';
import { createRedisRateLimiterFactory } from '../../src/platform/kv/redis-rate-limiter.js';
import { bullmqPrefix } from '../../src/platform/queue/bullmq-connections.js';
import { createBullmqJobQueue } from '../../src/platform/queue/bullmq-job-queue.js';
import { postgresUrl } from '../fixtures/database.js';
import { connectAnyRedisForTest, servicesRequired } from '../fixtures/redis.js';
import { type ClusterTopology, redisTopologySkip, startClusterTopology } from '../fixtures/redis-topologies.js';
import { adapterContractsOn, serveOnTopology, assertAuthFlow, assertEventQueuedThenConsumed, call } from '../fixtures/redis-topology-suites.js';

const databaseUrl = postgresUrl();
const ignoreErrors = () => {};

/** The master port serving `key`'s slot, from CLUSTER SLOTS. */
async function ownerPort(admin: Cluster, key: string): Promise<number> {
  const slot = Number(await admin.cluster('KEYSLOT', key));
  const ranges = await admin.cluster('SLOTS');
  const master = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
  assert.ok(master, `no node serves slot ${slot}`);
  return master[1];
}

/** Every key under `pattern` on every master, by master port. */
async function keysByNode(admin: Cluster, pattern: string): Promise<Map<number, string[]>> {
  const found = new Map<number, string[]>();
  for (const node of admin.nodes('master')) {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    if (keys.length > 0) found.set(node.options.port!, keys);
  }
  return found;
}

async function until(what: string, timeoutMs: number, probe: () => boolean | Promise<boolean>): Promise<void> {
  const start = performance.now();
  while (!(await probe())) {
    assert.ok(performance.now() - start < timeoutMs, `${what} not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Redis Cluster', { skip: redisTopologySkip() }, () => {
  let topology: ClusterTopology | undefined;
  const url = () => {
    assert.ok(topology, 'the Redis Cluster did not start');
    return topology.url;
  };

  before(async () => { topology = await startClusterTopology(); });
  after(async () => { await topology?.stop(); });

  adapterContractsOn('Redis Cluster', { url, cluster: true });

  describe('Redis Cluster: what only a cluster asks of the adapters', () => {
    const connections: RedisClient[] = [];
    let admin: Cluster;
    const runPrefix = `portcullis-test:${randomBytes(6).toString('hex')}:`;

    before(async () => {
      const client = connectAnyRedisForTest(url(), '');
      connections.push(client);
      assert.ok(isRedisCluster(client), 'a redis+cluster:// URL opens a Cluster connection');
      admin = client;
      await waitForRedisReady(admin, 10_000);
    });
    after(async () => {
      await Promise.all(connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
    });

    it('spreads limit keys over the masters, one slot per key, and still counts each exactly', async () => {
      const client = connectAnyRedisForTest(url(), runPrefix);
      connections.push(client);
      await waitForRedisReady(client, 10_000);
      const limiter = createRedisRateLimiterFactory(client)({ keyPrefix: 'spread', points: 2, durationSeconds: 60 });
      for (let i = 0; i < 30; i++) {
        assert.deepEqual((await Promise.all([limiter.consume(`ip-${i}`), limiter.consume(`ip-${i}`), limiter.consume(`ip-${i}`)])).map((s) => s.limited).sort(), [false, false, true]);
      }
      const byNode = await keysByNode(admin, `${runPrefix}spread:*`);
      assert.equal([...byNode.values()].flat().length, 30);
      assert.ok(byNode.size >= 2, `30 keys all landed on one master: ${[...byNode.keys()].join(', ')}`);
    });

    it('keeps every key of a BullMQ queue in the one slot of its hash-tag prefix', async () => {
      const prefix = `{${runPrefix}bull}`;
      const queue = await createBullmqJobQueue({
        redisUrl: url(), commandTimeoutMs: 1_000, connectTimeoutMs: 1_000, readyTimeoutMs: 10_000, onError: ignoreErrors,
        prefix, queueName: 'events', attempts: 1, backoffMs: 1, keepCompleted: 10, keepFailed: 10,
      });
      try {
        await queue.add([{ id: 'k1', name: 'n', data: {} }, { id: 'k2', name: 'n', data: {} }]);
        const keys = [...(await keysByNode(admin, `${prefix}:*`)).values()].flat();
        assert.ok(keys.includes(`${prefix}:events:k1`), keys.join(', '));
        const slots = new Set(await Promise.all(keys.map(async (key) => Number(await admin.cluster('KEYSLOT', key)))));
        assert.equal(slots.size, 1, `BullMQ keys over several slots: ${keys.join(', ')}`);
      } finally {
        await queue.close();
      }
    });

    it('refuses a BullMQ prefix without a hash tag on a cluster, before BullMQ fails on CROSSSLOT', async () => {
      for (const prefix of ['plain:bull', '{}:bull', 'bull:{late']) {
        await assert.rejects(createBullmqJobQueue({
          redisUrl: url(), commandTimeoutMs: 1_000, connectTimeoutMs: 1_000, readyTimeoutMs: 10_000, onError: ignoreErrors,
          prefix, queueName: 'events', attempts: 1, backoffMs: 1, keepCompleted: 10, keepFailed: 10,
        }), /must start with a hash tag/, prefix);
      }
      assert.equal(bullmqPrefix('portcullis:', url()), '{portcullis:bull}');
      assert.equal(bullmqPrefix('portcullis:', 'redis://127.0.0.1:6379'), 'portcullis:bull');
    });
  });

  describe('portcullis serve on a redis+cluster:// URL', { skip: databaseUrl || servicesRequired ? false : 'DATABASE_URL is not set' }, () => {
    const served = serveOnTopology(databaseUrl, url);

    it('registers, logs in and out (the revocation binds at once), reports ready, and relays its audit events to BullMQ under a hash tag, where a portcullis worker consumes them', async () => {
      assert.ok(served.server && served.services);
      const { email } = await assertAuthFlow(served.server);
      assert.equal((await call(served.server.url, '/v1/auth/login', { body: { email, password: 'not the password, through a cluster' } })).status, 401);
      const connection = createRedisConnection({ url: url(), keyPrefix: '', commandTimeoutMs: 1_000, connectTimeoutMs: 1_000, onError: ignoreErrors });
      try {
        await waitForRedisReady(connection, 10_000);
        const prefix = bullmqPrefix(served.services.env.PORTCULLIS_REDIS__KEY_PREFIX!, url());
        assert.match(prefix, /^\{portcullis-e2e-[0-9a-f]+:bull\}$/);
        await assertEventQueuedThenConsumed(connection, prefix, served.services.env, 'auth.login.failed');
      } finally {
        connection.disconnect();
      }
    });
  });

  describe('when the node holding a revocation mirror\'s subscription dies', () => {
    const connections: RedisClient[] = [];
    // The cluster is thrown away afterwards, node and keys alike: no cleanup of keys needed.
    const runPrefix = `portcullis-test:${randomBytes(6).toString('hex')}:`;
    after(async () => {
      await Promise.all(connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
    });

    it('subscribes on another node, reloads, reports in sync again and hears the other instance', async () => {
      assert.ok(topology);
      const admin = connectAnyRedisForTest(url(), '');
      connections.push(admin);
      assert.ok(isRedisCluster(admin));
      const open = () => {
        const client = connectAnyRedisForTest(url(), runPrefix, 300);
        const subscriber = duplicateForSubscriber(client, ignoreErrors);
        connections.push(client, subscriber);
        return { client, subscriber };
      };
      const mine = open();
      const theirs = open();
      await Promise.all(connections.map((connection) => waitForRedisReady(connection, 10_000)));
      const doomed = mine.subscriber.options.port!;
      // The set's own key must live on a surviving node, or nothing could reload it until the node returns.
      let id = randomBytes(6).toString('hex');
      while (await ownerPort(admin, `${runPrefix}failover:${id}:members`) === doomed) id = randomBytes(6).toString('hex');
      const clock = createManualClock();
      const deps = { channel: `${runPrefix}failover:${id}`, keyPrefix: `failover:${id}`, clock, onError: ignoreErrors };
      const set = await createRedisExpiringSet({ ...deps, ...mine });
      const other = await createRedisExpiringSet({ ...deps, ...theirs });
      try {
        await other.add('before', clock.nowMs() + 60_000);
        await until('"before" heard', 1_000, () => set.has('before'));

        await topology.killNode(doomed);
        await until('out of sync reported', 1_000, () => !set.isInSync());
        await until('subscribed on another node and in sync', 5_000, () => set.isInSync() && mine.subscriber.status === 'ready');
        assert.notEqual(mine.subscriber.options.port, doomed);
        // A new add from the other instance reaches it through the new subscription.
        await other.add('after', clock.nowMs() + 60_000);
        await until('"after" heard through the new node', 2_000, () => set.has('after'));
        assert.equal(set.has('before'), true);
      } finally {
        await set.close();
        await other.close();
        await topology.restartNode(doomed);
      }
    });
  });
});
