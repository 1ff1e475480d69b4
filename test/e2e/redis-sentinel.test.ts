/*
 * Redis Sentinel end to end, on processes of our own (a master, its replica, one sentinel; the
 * shared Redis is never touched): the shared-state contracts that single-node Redis passes
 * (limits, the revocation set and its pub/sub mirror, BullMQ) pass unchanged through a
 * `redis+sentinel://` URL; a real `portcullis serve` pointed at it registers, logs in and out,
 * reports ready and relays its audit events to BullMQ, where a real `portcullis worker` consumes
 * them. Then the master is killed: the sentinel promotes the replica and the same instance is
 * ready again, without a restart, with the revocation made before the failover still in force.
 * Runs when REDIS_URL is set (Redis tests on) and redis-server is on PATH; the serve part also
 * needs DATABASE_URL. Under PORTCULLIS_REQUIRE_SERVICES=1 nothing skips.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRedisConnection, waitForRedisReady } from '../../src/platform/kv/redis-connection.js';
import { bullmqPrefix } from '../../src/platform/queue/bullmq-connections.js';
import { postgresUrl } from '../fixtures/database.js';
import { servicesRequired } from '../fixtures/redis.js';
import { freePort } from '../fixtures/server-process.js';
import { redisTopologySkip, type SentinelTopology, startSentinelTopology } from '../fixtures/redis-topologies.js';
import { adapterContractsOn, serveOnTopology, assertAuthFlow, assertEventQueuedThenConsumed, call, TOPOLOGY_PASSWORD } from '../fixtures/redis-topology-suites.js';

const databaseUrl = postgresUrl();

describe('Redis Sentinel', { skip: redisTopologySkip() }, () => {
  let topology: SentinelTopology | undefined;
  const url = () => {
    assert.ok(topology, 'the Sentinel topology did not start');
    return topology.url;
  };

  before(async () => { topology = await startSentinelTopology(); });
  after(async () => { await topology?.stop(); });

  adapterContractsOn('Redis Sentinel', { url, cluster: false });

  it('reaches the master through the next sentinel of the URL when the first one does not answer', async () => {
    assert.ok(topology);
    const deadSentinel = await freePort();
    const listed = `redis+sentinel://127.0.0.1:${deadSentinel},127.0.0.1:${topology.sentinelPort}/${topology.masterName}`;
    const connection = createRedisConnection({ url: listed, keyPrefix: '', commandTimeoutMs: 1_000, connectTimeoutMs: 1_000, onError: () => {} });
    const master = createRedisConnection({ url: `redis://127.0.0.1:${topology.currentMasterPort()}`, keyPrefix: '', commandTimeoutMs: 1_000, connectTimeoutMs: 1_000, onError: () => {} });
    const key = `portcullis-test:sentinels:${deadSentinel}`;
    try {
      await waitForRedisReady(connection, 5_000);
      await connection.set(key, 'through the second sentinel', 'EX', 60);
      assert.equal(await master.get(key), 'through the second sentinel', 'the write reached the master');
    } finally {
      await master.del(key).catch(() => undefined);
      connection.disconnect();
      master.disconnect();
    }
  });

  describe('portcullis serve on a redis+sentinel:// URL', { skip: databaseUrl || servicesRequired ? false : 'DATABASE_URL is not set' }, () => {
    const served = serveOnTopology(databaseUrl, url);

    let revokedToken = '';

    it('registers, logs in and out (the revocation binds at once), reports ready, and relays its audit events to BullMQ, where a portcullis worker consumes them', async () => {
      assert.ok(served.server && served.services);
      const { email } = await assertAuthFlow(served.server);
      const login = await call(served.server.url, '/v1/auth/login', { body: { email, password: TOPOLOGY_PASSWORD } });
      revokedToken = login.body.accessToken as string;
      assert.equal((await call(served.server.url, '/v1/auth/logout', { method: 'POST', token: revokedToken })).status, 204);

      const wrong = await call(served.server.url, '/v1/auth/login', { body: { email, password: 'not the password, through a sentinel' } });
      assert.equal(wrong.status, 401);
      const connection = createRedisConnection({ url: url(), keyPrefix: '', commandTimeoutMs: 1_000, connectTimeoutMs: 1_000, onError: () => {} });
      try {
        await waitForRedisReady(connection, 5_000);
        const keyPrefix = served.services.env.PORTCULLIS_REDIS__KEY_PREFIX!;
        await assertEventQueuedThenConsumed(connection, bullmqPrefix(keyPrefix, url()), served.services.env, 'auth.login.failed');
        assert.ok((await connection.zcard(`${keyPrefix}revocations:members`)) >= 2, 'the revocations are in the sorted set on the master');
      } finally {
        connection.disconnect();
      }
    });

    it('is ready again after the master dies and the sentinel promotes the replica, and still refuses the revoked token', async () => {
      assert.ok(served.server && topology);
      const before = topology.currentMasterPort();
      await topology.killMaster();
      const killed = performance.now();
      for (;;) {
        const ready = await call(served.server.url, '/readyz');
        if (ready.status === 200 && topology.currentMasterPort() !== before) break;
        assert.ok(performance.now() - killed < 15_000, `not ready on the new master within 15 s: ${JSON.stringify(ready.body)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(topology.currentMasterPort(), topology.replicaPort);
      assert.equal((await call(served.server.url, '/v1/auth/whoami', { token: revokedToken })).status, 401, 'the revocation survived the failover');
      // Limits, revocations and the queue all write to the new master.
      const { email } = await assertAuthFlow(served.server);
      assert.equal((await call(served.server.url, '/v1/auth/login', { body: { email, password: TOPOLOGY_PASSWORD } })).status, 200);
    });
  });
});
