/**
 * JobQueue contract on every adapter: in-process always; BullMQ on the real Redis when REDIS_URL
 * is set (required when PORTCULLIS_REQUIRE_SERVICES=1), each test under its own key prefix.
 * Then what only one adapter promises: the in-process add() resolves only once its jobs are
 * handled (the relay relies on it in embedded mode), and the BullMQ producer fails fast when
 * Redis is gone instead of queueing.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { freePort } from '../../../test/fixtures/server-process.js';
import { connectRedisForTest, deleteRedisKeys, killProcess, ownRedisServerSkip, redisUrl as configuredRedisUrl, servicesRequired, startRedisServer } from '../../../test/fixtures/redis.js';
import { createManualClock } from '../clock.js';
import { waitForRedisReady } from '../kv/redis-connection.js';
import { createBullmqJobQueue } from './bullmq-job-queue.js';
import type { DeliveryReport } from './job-observer.js';
import { jobQueueContract } from './job-queue.contract.js';
import { openBullmqTestBackend } from '../../../test/fixtures/bullmq-backend.js';
import { createMemoryJobQueue, JobQueueClosedError } from './memory-job-queue.js';

const redisUrl = configuredRedisUrl;

jobQueueContract('in-process', {
  async open(settings) {
    const queue = createMemoryJobQueue(settings);
    return { queue, consumer: queue, listDeadLetters: async () => queue.listDeadLetters(), close: () => queue.close() };
  },
});

describe('in-process JobQueue', () => {
  const settings = { attempts: 3, backoffMs: 1, concurrency: 1 };

  it('resolves add() only once the job has been handled', async () => {
    const queue = createMemoryJobQueue(settings);
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    let handled = false;
    await queue.start(async () => { await held; handled = true; });
    let added = false;
    const adding = queue.add([{ id: 'a', name: 'n', data: {} }]).then(() => { added = true; });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(added, false, 'add() resolved before the handler finished');
    release();
    await adding;
    assert.equal(handled, true);
    await queue.close();
  });

  it('resolves add() once a failing job is dead-lettered, so the relay moves on', async () => {
    const queue = createMemoryJobQueue(settings);
    await queue.start(async () => { throw new Error('always'); });
    await queue.add([{ id: 'dead', name: 'n', data: { k: 1 } }]);
    assert.deepEqual(queue.listDeadLetters().map((d) => [d.id, d.attempts, d.lastError]), [['dead', 3, 'Error: always']]);
    await queue.close();
  });

  it('holds jobs added before start() until a consumer starts', async () => {
    const queue = createMemoryJobQueue(settings);
    const seen: string[] = [];
    const adding = queue.add([{ id: 'early', name: 'n', data: {} }]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(seen.length, 0);
    await queue.start(async (job) => { seen.push(job.id); });
    await adding;
    assert.deepEqual(seen, ['early']);
    await queue.close();
  });

  it('releases on close() the jobs it has not started: their add() rejects, so the relay delivers them again', async () => {
    const queue = createMemoryJobQueue({ ...settings, concurrency: 1 });
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const seen: string[] = [];
    await queue.start(async (job) => { seen.push(job.id); await held; });
    const first = queue.add([{ id: 'running', name: 'n', data: {} }]);
    const second = queue.add([{ id: 'waiting', name: 'n', data: {} }]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const closing = queue.close();
    await assert.rejects(second, JobQueueClosedError);
    release();
    await closing;
    await first;
    assert.deepEqual(seen, ['running']);
    await assert.rejects(queue.add([{ id: 'late', name: 'n', data: {} }]), JobQueueClosedError);
  });

  it('releases on close() a job waiting for its retry instead of waiting out the backoff', async () => {
    const queue = createMemoryJobQueue({ ...settings, backoffMs: 60_000 });
    await queue.start(async () => { throw new Error('fails'); });
    const adding = queue.add([{ id: 'retrying', name: 'n', data: {} }]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const started = performance.now();
    await queue.close();
    await assert.rejects(adding, JobQueueClosedError);
    assert.ok(performance.now() - started < 1_000);
  });

  it('refuses a batch holding data JSON cannot carry, queueing none of it, and reports every delivery to its observer', async () => {
    const reports: DeliveryReport[] = [];
    const clock = createManualClock();
    const queue = createMemoryJobQueue({ ...settings, clock, observer: { delivered: (r) => reports.push(r), error: () => {} } });
    await queue.start(async (job) => { if (job.attempt === 1) throw new Error('once'); });
    await assert.rejects(queue.add([{ id: 'fine', name: 'auth.login.failed', data: {} }, { id: 'big', name: 'n', data: { n: 1n } }]), TypeError);
    await queue.add([{ id: 'ok', name: 'auth.login.failed', data: {} }]);
    assert.deepEqual(reports.map((r) => [r.id, r.name, r.attempt, r.outcome, r.queuedMs !== undefined]), [
      ['ok', 'auth.login.failed', 1, 'retrying', true], ['ok', 'auth.login.failed', 2, 'succeeded', false],
    ]);
    await queue.close();
  });
});

if (!redisUrl && servicesRequired) {
  describe('JobQueue contract: BullMQ', () => {
    it('runs on Redis: PORTCULLIS_REQUIRE_SERVICES=1 forbids skipping it', () => {
      throw new Error('PORTCULLIS_REQUIRE_SERVICES=1 but REDIS_URL is not set');
    });
  });
}

if (redisUrl) {
  describe('BullMQ JobQueue', () => {
    // Every key of this run lives under one random prefix, deleted in `after`.
    const runPrefix = `portcullis-test:${randomBytes(6).toString('hex')}:`;
    let admin: Redis;
    const connection = { redisUrl, commandTimeoutMs: 1_000, connectTimeoutMs: 1_000, readyTimeoutMs: 5_000 };

    before(async () => {
      admin = connectRedisForTest(redisUrl, '');
      await waitForRedisReady(admin, 5_000);
    });

    after(async () => {
      await deleteRedisKeys(admin, runPrefix);
      await admin.quit();
    });

    jobQueueContract('BullMQ', {
      open: (settings) => openBullmqTestBackend(connection, { prefix: `${runPrefix}${randomBytes(4).toString('hex')}`, queueName: 'events' }, settings),
    });

    it('keeps every key under its prefix', async () => {
      const prefix = `${runPrefix}keys`;
      const queue = await createBullmqJobQueue({ ...connection, prefix, queueName: 'events', attempts: 1, backoffMs: 1, keepCompleted: 10, keepFailed: 10 });
      try {
        await queue.add([{ id: 'k1', name: 'n', data: {} }]);
        const [, keys] = await admin.scan('0', 'MATCH', `${prefix}:events:*`, 'COUNT', 1000);
        assert.ok(keys.includes(`${prefix}:events:k1`), `job hash under the prefix: ${keys.join(', ')}`);
      } finally {
        await queue.close();
      }
    });
  });
}

describe('BullMQ JobQueue when Redis is gone', { skip: ownRedisServerSkip() }, () => {
  let server: ChildProcess | undefined;
  after(() => killProcess(server));

  it('rejects add() within the command timeout instead of queueing it', async () => {
    const port = await freePort();
    server = await startRedisServer(port);
    const queue = await createBullmqJobQueue({
      redisUrl: `redis://127.0.0.1:${port}`, commandTimeoutMs: 300, connectTimeoutMs: 300, readyTimeoutMs: 5_000, onError: () => {},
      prefix: 'gone', queueName: 'events', attempts: 1, backoffMs: 1, keepCompleted: 10, keepFailed: 10,
    });
    try {
      await queue.add([{ id: 'before', name: 'n', data: {} }]);
      await killProcess(server);
      const started = performance.now();
      await assert.rejects(queue.add([{ id: 'during', name: 'n', data: {} }]));
      const tookMs = performance.now() - started;
      assert.ok(tookMs < 500, `add took ${tookMs.toFixed(0)} ms to reject`);
    } finally {
      await queue.close();
    }
  });
});
