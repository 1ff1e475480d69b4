/**
 * The behaviour every job queue adapter owes the audit relay and the handlers, run unchanged
 * against the in-process and the BullMQ adapters. Backoff is a few milliseconds (an option), so
 * no test waits for real retry delays; tests poll for what the handler saw, with a deadline.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeadLetter } from './dead-letter.js';
import type { DeliveredJob, JobConsumer, JobHandler, JobQueue } from './job-queue.js';

/** Retry and concurrency settings a test asks its backend for. */
export interface JobQueueTestSettings {
  attempts: number;
  backoffMs: number;
  concurrency: number;
  /** Dead letters kept; older ones are dropped. */
  keepDeadLetters: number;
}

/** One test's queue: producer and consumer over a backend no other test sees. */
export interface JobQueueBackend {
  queue: JobQueue;
  consumer: JobConsumer;
  listDeadLetters(): Promise<DeadLetter[]>;
  /** Closes whatever the test left open; safe after the test closed things itself. */
  close(): Promise<void>;
}

/** How the contract gets a fresh backend per test. */
export interface JobQueueContractTarget {
  open(settings: JobQueueTestSettings): Promise<JobQueueBackend>;
}

const DEADLINE_MS = 5_000;
const DEFAULTS: JobQueueTestSettings = { attempts: 3, backoffMs: 5, concurrency: 2, keepDeadLetters: 1_000 };

/** Polls `condition` until it holds; fails after the deadline with `what`. */
async function eventually(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const start = performance.now();
  while (!(await condition())) {
    if (performance.now() - start > DEADLINE_MS) throw new Error(`${what}: not within ${DEADLINE_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A promise with its resolve function, to hold a handler in flight. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => { open = resolve; });
  return { promise, open };
}

/** Registers the job queue contract tests (node:test) for one adapter under `name`. */
export function jobQueueContract(name: string, target: JobQueueContractTarget): void {
  /** Runs `body` with a fresh backend (settings over the defaults), closing it afterwards. */
  function withQueue(settings: Partial<JobQueueTestSettings>, body: (backend: JobQueueBackend) => Promise<void>) {
    return async () => {
      const backend = await target.open({ ...DEFAULTS, ...settings });
      try {
        await body(backend);
      } finally {
        await backend.close();
      }
    };
  }

  /** A handler that records every delivery and behaves as `behave` says. */
  function recorder(behave: (job: DeliveredJob) => Promise<void> | void = () => {}) {
    const seen: DeliveredJob[] = [];
    const handler: JobHandler = async (job) => {
      seen.push(job);
      await behave(job);
    };
    return { seen, handler };
  }

  describe(`JobQueue contract: ${name}`, () => {
    it('delivers a job to the handler with its id, name and data, as attempt 1', withQueue({}, async ({ queue, consumer }) => {
      const { seen, handler } = recorder();
      await consumer.start(handler);
      const added = queue.add([{ id: 'EVT001', name: 'auth.login.failed', data: { ip: '203.0.113.9', nested: { list: [1, 'x', null] } } }]);
      await eventually('delivery', () => seen.length === 1);
      await added;
      assert.deepEqual(seen, [{ id: 'EVT001', name: 'auth.login.failed', data: { ip: '203.0.113.9', nested: { list: [1, 'x', null] } }, attempt: 1 }]);
    }));

    it('hands over data as JSON would carry it: a Date arrives as its ISO string', withQueue({}, async ({ queue, consumer }) => {
      const { seen, handler } = recorder();
      await consumer.start(handler);
      const time = new Date('2026-03-04T05:06:07.089Z');
      const added = queue.add([{ id: 'EVT-DATE', name: 'x', data: { time } }]);
      await eventually('delivery', () => seen.length === 1);
      await added;
      assert.deepEqual(seen[0]!.data, { time: '2026-03-04T05:06:07.089Z' });
    }));

    it('redelivers a failing job until it succeeds: attempts 1, 2, 3, and no dead letter', withQueue({ attempts: 3 }, async ({ queue, consumer, listDeadLetters }) => {
      const { seen, handler } = recorder((job) => {
        if (job.attempt < 3) throw new Error(`transient failure ${job.attempt}`);
      });
      await consumer.start(handler);
      const added = queue.add([{ id: 'EVT-RETRY', name: 'auth.login.failed', data: { n: 1 } }]);
      await eventually('three deliveries', () => seen.length === 3);
      await added;
      assert.deepEqual(seen.map((job) => job.attempt), [1, 2, 3]);
      assert.ok(seen.every((job) => job.id === 'EVT-RETRY' && job.name === 'auth.login.failed'));
      assert.deepEqual(await listDeadLetters(), []);
    }));

    it('dead-letters a job after the last attempt, with its data and the last error message, and stops delivering it', withQueue({ attempts: 3 }, async ({ queue, consumer, listDeadLetters }) => {
      const { seen, handler } = recorder((job) => { throw new TypeError(`broken on attempt ${job.attempt}`); });
      await consumer.start(handler);
      const added = queue.add([{ id: 'EVT-DEAD', name: 'auth.login.failed', data: { ip: '198.51.100.7' } }]);
      await eventually('a dead letter', async () => (await listDeadLetters()).length === 1);
      await added;
      const [dead] = await listDeadLetters();
      assert.equal(dead!.id, 'EVT-DEAD');
      assert.equal(dead!.name, 'auth.login.failed');
      assert.deepEqual(dead!.data, { ip: '198.51.100.7' });
      assert.equal(dead!.attempts, 3);
      assert.equal(dead!.lastError, 'TypeError: broken on attempt 3');
      assert.equal(typeof dead!.failedAtMs, 'number');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(seen.map((job) => job.attempt), [1, 2, 3], 'no delivery after the last attempt');
    }));

    it('keeps at most keepDeadLetters dead letters, dropping the oldest', withQueue({ attempts: 1, keepDeadLetters: 2 }, async ({ queue, consumer, listDeadLetters }) => {
      await consumer.start(() => { throw new Error('always broken'); });
      for (const [i, id] of ['EVT-OLD', 'EVT-MID', 'EVT-NEW'].entries()) {
        const added = queue.add([{ id, name: 'auth.login.failed', data: { i } }]);
        await eventually(`${id} dead-lettered`, async () => (await listDeadLetters()).some((dead) => dead.id === id));
        await added;
      }
      await eventually('the oldest dropped', async () => (await listDeadLetters()).length === 2);
      assert.deepEqual((await listDeadLetters()).map((dead) => dead.id), ['EVT-MID', 'EVT-NEW']);
    }));

    it('keeps only the error name and message of a dead letter, never the stack, cut to 500 characters', withQueue({ attempts: 1 }, async ({ queue, consumer, listDeadLetters }) => {
      await consumer.start(async () => { throw new Error('x'.repeat(5_000)); });
      const added = queue.add([{ id: 'EVT-LONG', name: 'n', data: {} }]);
      await eventually('a dead letter', async () => (await listDeadLetters()).length === 1);
      await added;
      const [dead] = await listDeadLetters();
      assert.ok(dead!.lastError.startsWith('Error: xxx'));
      assert.ok(dead!.lastError.length <= 501, `lastError is ${dead!.lastError.length} characters`);
      assert.ok(!dead!.lastError.includes(' at '), 'no stack frames');
    }));

    it('runs a job once when its id is added twice, in one batch or one after the other', withQueue({}, async ({ queue, consumer }) => {
      const { seen, handler } = recorder();
      await consumer.start(handler);
      const job = { id: 'EVT-DUP', name: 'auth.login.failed', data: { n: 1 } };
      const first = queue.add([job, { ...job, data: { n: 2 } }]);
      await eventually('delivery', () => seen.length >= 1);
      await first;
      await queue.add([{ ...job, data: { n: 3 } }]);
      await queue.add([{ id: 'EVT-AFTER', name: 'marker', data: {} }]);
      await eventually('marker', () => seen.some((j) => j.id === 'EVT-AFTER'));
      // Room for a wrongly accepted duplicate to show up before the assertion.
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(seen.filter((j) => j.id === 'EVT-DUP').map((j) => j.data), [{ n: 1 }]);
    }));

    it('delivers awkward ids intact and keeps them apart', withQueue({ concurrency: 4 }, async ({ queue, consumer }) => {
      const ids = ['42', '007', 'a:b:c', 'ünïcødé 🔑', 'x'.repeat(300), '~deadbeef', 'with space', ''];
      const { seen, handler } = recorder();
      await consumer.start(handler);
      const added = queue.add(ids.map((id) => ({ id, name: 'n', data: { id } })));
      await eventually('every delivery', () => seen.length === ids.length);
      await added;
      assert.deepEqual(seen.map((job) => job.id).sort(), [...ids].sort());
      assert.ok(seen.every((job) => (job.data as { id: string }).id === job.id));
    }));

    it('never runs more handlers at once than the concurrency limit', withQueue({ concurrency: 2 }, async ({ queue, consumer }) => {
      let running = 0;
      let peak = 0;
      const { seen, handler } = recorder(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running -= 1;
      });
      await consumer.start(handler);
      const added = queue.add(Array.from({ length: 8 }, (_, i) => ({ id: `EVT-C${i}`, name: 'n', data: { i } })));
      await eventually('every delivery', () => seen.length === 8 && running === 0);
      await added;
      assert.equal(peak, 2);
    }));

    it('waits in close() for a job in flight, which completes and is not delivered again', withQueue({}, async ({ queue, consumer }) => {
      const held = gate();
      const { seen, handler } = recorder(() => held.promise);
      await consumer.start(handler);
      const added = queue.add([{ id: 'EVT-INFLIGHT', name: 'n', data: {} }]);
      await eventually('delivery', () => seen.length === 1);
      let closed = false;
      const closing = consumer.close().then(() => { closed = true; });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(closed, false, 'close() returned while a handler was running');
      held.open();
      await closing;
      await added;
      assert.deepEqual(seen.map((job) => job.attempt), [1]);
    }));
  });
}
