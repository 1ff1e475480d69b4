/*
 * Redis over TLS (`rediss://`), on a redis-server of our own that has no plain port and a
 * certificate from a CA made for this run. With that CA trusted (NODE_EXTRA_CA_CERTS, as the
 * README says) a real `portcullis serve` runs the whole auth flow through it: its limits and
 * revocations are in that Redis. Threat: someone on the path answers with a certificate we do
 * not trust (the same server, its CA not given): serve must refuse to start, naming the
 * certificate error, and send no command there.
 * Runs when REDIS_URL is set (Redis tests on), redis-server is on PATH and DATABASE_URL is set;
 * under PORTCULLIS_REQUIRE_SERVICES=1 nothing skips.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { postgresUrl } from '../fixtures/database.js';
import { servicesRequired } from '../fixtures/redis.js';
import { redisTopologySkip, startTlsRedis, type TlsRedisTopology } from '../fixtures/redis-topologies.js';
import { assertAuthFlow } from '../fixtures/redis-topology-suites.js';
import { createSharedServices, runCli, type ServerProcess, type SharedServices, startServer } from '../fixtures/server-process.js';

const databaseUrl = postgresUrl();
const skip = redisTopologySkip() || (databaseUrl || servicesRequired ? false : 'DATABASE_URL is not set');

describe('Redis over TLS (rediss://)', { skip }, () => {
  let redis: TlsRedisTopology | undefined;
  let admin: Redis | undefined;
  let services: SharedServices | undefined;
  let server: ServerProcess | undefined;
  /** Keys under this run's prefix in the TLS Redis, read through a client that trusts its CA. */
  const keysOfRun = async () => admin!.keys(`${services!.env.PORTCULLIS_REDIS__KEY_PREFIX}*`);

  before(async () => {
    assert.ok(databaseUrl, 'PORTCULLIS_REQUIRE_SERVICES=1 needs DATABASE_URL');
    redis = await startTlsRedis();
    admin = new Redis({ host: '127.0.0.1', port: redis.port, tls: { ca: readFileSync(redis.caFile) }, lazyConnect: true, maxRetriesPerRequest: 1 });
    await admin.connect();
    services = await createSharedServices(databaseUrl, redis.url, { deleteRedisKeys: false });
  });

  after(async () => {
    const code = await server?.stop();
    admin?.disconnect();
    // The keys die with this Redis: the shared cleanup could not reach it without its CA.
    await services?.close();
    await redis?.stop();
    if (server) assert.equal(code, 0, server.output());
  });

  it('refuses to start when the Redis certificate is not from a trusted CA, names the reason, and sends no command', { timeout: 60_000 }, async () => {
    const refused = await runCli(['serve'], {
      ...services!.env, PORTCULLIS_PORT: '0', PORTCULLIS_REDIS__STARTUP_TIMEOUT_MS: '2000', PORTCULLIS_LOG_LEVEL: 'error',
    }, 20_000); // a serve that accepted the certificate would keep running: runCli then fails with "timed out"

    assert.notEqual(refused.code, 0, 'serve must not run on a Redis it cannot authenticate');
    assert.match(refused.stderr + refused.stdout, /Redis was not ready within 2000 ms \(last error: self[- ]signed certificate in certificate chain\)/);
    assert.deepEqual(await keysOfRun(), []);
    const commands = await admin!.info('commandstats');
    assert.doesNotMatch(commands, /cmdstat_evalsha|cmdstat_subscribe/, 'no limiter script ran and nobody subscribed');
  });

  it('runs register, login, whoami, logout with its limits and revocations in that Redis once the CA is trusted', { timeout: 60_000 }, async () => {
    server = await startServer({ ...services!.env, NODE_EXTRA_CA_CERTS: redis!.caFile });
    await assertAuthFlow(server);
    const keys = await keysOfRun();
    assert.ok(keys.some((key) => key.includes('revocations')), `the logout's revocation is in the TLS Redis: ${keys.join(', ')}`);
  });
});
