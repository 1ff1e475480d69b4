/**
 * `portcullis worker` as a real process on a fresh PostgreSQL schema and Redis key prefix: jobs
 * put on the queue by the BullMQ producer (as the audit relay does) become failure statistics in
 * the database, a redelivered event is counted once, a malformed one ends in the dead-letter
 * queue, job data never reaches the log, and SIGTERM stops it cleanly with exit 0. Needs
 * DATABASE_URL and REDIS_URL (required under PORTCULLIS_REQUIRE_SERVICES=1); the refusal to start
 * without them runs everywhere.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createFailureCounts, createKyselyFailureStatsStore, type FailureCounts } from '../../src/detection/index.js';
import { loadConfig } from '../../src/platform/config/load.js';
import { waitForRedisReady } from '../../src/platform/kv/redis-connection.js';
import { type BullmqJobQueue, createBullmqJobQueue } from '../../src/platform/queue/bullmq-job-queue.js';
import { createBullmqJobConsumer } from '../../src/platform/queue/bullmq-job-consumer.js';
import { bullmqSettings, createJobHandler } from '../../src/worker.js';
import { postgresUrl } from '../fixtures/database.js';
import { connectRedisForTest, deleteRedisKeys, redisUrl, servicesRequired } from '../fixtures/redis.js';
import { childEnv, createSharedServices, freePort, runCli, type SharedServices } from '../fixtures/server-process.js';
import { createTestApp } from '../fixtures/test-app.js';

const DEADLINE_MS = 20_000;

/** Polls `read` until `done` holds for its value; fails with the last value after the deadline. */
async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const start = performance.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (performance.now() - start > DEADLINE_MS) throw new Error(`${what}: still ${JSON.stringify(value)} after ${DEADLINE_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('portcullis worker refuses to start outside distributed mode', () => {
  for (const [label, env] of [
    ['with neither', {}],
    ['without REDIS_URL', { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' }],
    ['without DATABASE_URL', { REDIS_URL: 'redis://127.0.0.1:6379' }],
  ] as const) {
    it(`exits 78 naming both settings ${label}`, async () => {
      const result = await runCli(['worker'], { ...env, PORTCULLIS_LOG_LEVEL: 'warn' });
      assert.equal(result.code, 78, result.stderr);
      assert.match(result.stderr, /needs REDIS_URL and DATABASE_URL/);
    });
  }
});

const databaseUrl = postgresUrl();
const skip = databaseUrl && redisUrl ? false : 'DATABASE_URL and REDIS_URL are not both set';

if (skip && servicesRequired) {
  describe('portcullis worker on PostgreSQL and Redis', () => {
    it('runs: PORTCULLIS_REQUIRE_SERVICES=1 forbids skipping it', () => {
      throw new Error('PORTCULLIS_REQUIRE_SERVICES=1 but DATABASE_URL or REDIS_URL is not set');
    });
  });
}

describe('portcullis worker on PostgreSQL and Redis', { skip }, () => {
  let services: SharedServices;
  let worker: ChildProcess | undefined;
  let output = '';
  let exited: Promise<number | null>;
  let producer: BullmqJobQueue;
  let counts: (dimension: 'ip' | 'account', key: string) => Promise<FailureCounts>;
  let metricsUrl: string;

  before(async () => {
    services = await createSharedServices(databaseUrl!, redisUrl!);
    metricsUrl = `http://127.0.0.1:${await freePort()}`;
    const env = {
      ...services.env, PORTCULLIS_QUEUE__ATTEMPTS: '2', PORTCULLIS_QUEUE__BACKOFF_MS: '20', PORTCULLIS_LOG_LEVEL: 'info',
      PORTCULLIS_WORKER__METRICS_PORT: new URL(metricsUrl).port,
    };
    worker = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'worker'], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    worker.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    worker.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    exited = new Promise((resolve) => worker!.on('exit', (code) => resolve(code)));
    await until('worker start', async () => output, (text) => text.includes('worker started') || worker!.exitCode !== null);
    assert.equal(worker.exitCode, null, output);

    // The producer the relay uses, configured from the same settings as the worker.
    const config = loadConfig({ argv: [], env, readFile: () => '' });
    producer = await createBullmqJobQueue({ ...bullmqSettings(config, pino({ level: 'silent' })), ...config.queue });
    const failureCounts = createFailureCounts({ store: createKyselyFailureStatsStore(services.db), bucketMs: config.detection.bucketSeconds * 1000 });
    counts = (dimension, key) => failureCounts({ dimension, key, sinceMs: Date.now() - 3_600_000 });
  });

  after(async () => {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
    await producer?.close();
    await services?.close();
  });

  /** A relayed audit event as the relay puts it on the queue: `{id, name: type, data: view}`. */
  function relayed(type: string, fields: { ip?: string; actor?: string }, id = randomBytes(8).toString('hex').toUpperCase()) {
    return {
      id, name: type,
      data: { id, time: new Date().toISOString(), type, outcome: 'failure', ...fields, data: { email: 'victim@example.com', reason: 'bad_password' } },
    };
  }

  it('turns queued failure events into per-IP and per-account statistics, counting a redelivered event once', async () => {
    const ip = '198.51.100.23';
    const first = relayed('auth.login.failed', { ip, actor: 'USER-E2E' });
    await producer.add([first, relayed('auth.login.failed', { ip, actor: 'USER-E2E' }), relayed('auth.login.failed', { ip })]);
    await producer.add([relayed('ratelimit.blocked', { ip }), relayed('user.registered', { ip, actor: 'USER-E2E' })]);
    const byIp = await until('IP statistics', () => counts('ip', ip), (c) => c.total === 4);
    assert.deepEqual(byIp.byKind, { login_failed: 3, rate_limited: 1, token_reuse: 0 });
    assert.equal((await counts('account', 'USER-E2E')).total, 2);

    // The relay re-sends after a crash: same id, and the completed job is gone from the queue's
    // dedupe set here (removed by hand) so the worker really runs it again; the database refuses it.
    await services.db.selectFrom('processed_jobs').select('job_id').where('job_id', '=', first.id).executeTakeFirstOrThrow();
    const settings = bullmqSettings(loadConfig({ argv: [], env: services.env, readFile: () => '' }), pino({ level: 'silent' }));
    const { Queue } = await import('bullmq');
    const { Redis } = await import('ioredis');
    const connection = new Redis(redisUrl!);
    const raw = new Queue(settings.queueName, { connection, prefix: settings.prefix });
    try {
      await raw.remove(first.id);
    } finally {
      await raw.close();
      await connection.quit();
    }
    const marker = relayed('auth.login.failed', { ip: '198.51.100.99' });
    await producer.add([first, marker]);
    await until('marker counted', () => counts('ip', '198.51.100.99'), (c) => c.total === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await counts('ip', ip)).total, 4, 'the redelivered event was not counted again');
  });

  it('dead-letters a malformed event after its attempts, with the reason and without its values', async () => {
    const bad = { id: 'MALFORMED-1', name: 'auth.login.failed', data: { time: 'yesterday-ish', ip: '198.51.100.50' } };
    await producer.add([bad]);
    const [dead] = await until('dead letter', () => producer.listDeadLetters(), (list) => list.some((d) => d.id === bad.id));
    assert.equal(dead!.attempts, 2);
    assert.equal(dead!.lastError, 'Error: relayed event is malformed: time');
    assert.deepEqual(dead!.data, bad.data, 'the original data is kept for replay');
    assert.match(output, /dead-lettered/);
  });

  it('never writes job data to its log', () => {
    assert.ok(output.length > 0);
    assert.ok(!output.includes('victim@example.com'), 'an email from job data reached the log');
    assert.ok(!output.includes('yesterday-ish'), 'a malformed value reached the log');
  });

  it('serves its job metrics and a health check on its own listener, and nothing else', async () => {
    // The jobs of the tests above were handled in this process: their outcomes are countable here.
    const metrics = await fetch(`${metricsUrl}/metrics`);
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.match(text, /^portcullis_jobs_processed_total\{name="auth\.login\.failed",outcome="succeeded"\} [1-9]\d*$/m);
    assert.match(text, /^portcullis_jobs_dead_lettered_total\{name="[^"]+"\} [1-9]\d*$/m);
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    assert.equal((await fetch(`${metricsUrl}/healthz`)).status, 200);
    assert.equal((await fetch(`${metricsUrl}/v1/auth/whoami`)).status, 404);
    assert.equal((await fetch(`${metricsUrl}/metrics`, { method: 'POST', body: '{}' })).status, 405);
  });

  it('stops on SIGTERM with exit 0, leaving later jobs queued for the next worker', async () => {
    worker!.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /worker stopped/);
    const ip = '198.51.100.77';
    await producer.add([relayed('auth.login.failed', { ip })]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await counts('ip', ip)).total, 0);
  });
});

describe('serve in distributed mode', { skip: redisUrl ? false : 'REDIS_URL is not set' }, () => {
  it('relays audit events onto the BullMQ queue without consuming them, and a worker\'s handler counts them', async () => {
    const keyPrefix = `portcullis-test-${randomBytes(5).toString('hex')}:`;
    const env = { REDIS_URL: redisUrl!, PORTCULLIS_REDIS__KEY_PREFIX: keyPrefix };
    const t = await createTestApp({ env });
    const config = loadConfig({ argv: [], env, readFile: () => '' });
    const settings = bullmqSettings(config, pino({ level: 'silent' }));
    const ip = '192.0.2.201';
    try {
      const res = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'nobody@example.com', password: 'not the password at all' }, remoteAddress: ip });
      assert.equal(res.statusCode, 401);
      await t.registry.sealAuditChain();
      const { Queue } = await import('bullmq');
      const { Redis } = await import('ioredis');
      const connection = new Redis(redisUrl!);
      const queue = new Queue(settings.queueName, { connection, prefix: settings.prefix });
      try {
        const waiting = await queue.getJobs(['wait']);
        const failed = waiting.filter((job) => job.name === 'auth.login.failed');
        assert.equal(failed.length, 1, 'one relayed event is waiting for a worker');
        assert.equal((failed[0]!.data as { data: { ip: string } }).data.ip, ip);
      } finally {
        await queue.close();
        await connection.quit();
      }
      const sinceMs = t.clock.nowMs() - 60_000;
      assert.equal((await t.registry.failureCounts({ dimension: 'ip', key: ip, sinceMs })).total, 0, 'serve does not consume');

      const consumer = await createBullmqJobConsumer({ ...settings, concurrency: 1, clock: t.clock });
      await consumer.start(createJobHandler({ db: t.database.db, clock: t.clock, config, logger: pino({ level: 'silent' }) }));
      try {
        await until('worker counted it', () => t.registry.failureCounts({ dimension: 'ip', key: ip, sinceMs }), (c) => c.total === 1);
      } finally {
        await consumer.close();
      }
    } finally {
      await t.close();
      const admin = connectRedisForTest(redisUrl!, '');
      await waitForRedisReady(admin, 5_000);
      await deleteRedisKeys(admin, keyPrefix).finally(() => admin.quit());
    }
  });
});
