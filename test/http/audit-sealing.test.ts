/**
 * The running service seals what it audits and relays it to the job queue: right after an
 * audited request commits (a nudge), on a timer (events committed by other instances), on demand
 * (`sealAuditChain()`), and one last time on close, so a graceful shutdown leaves nothing unsealed.
 * The queue is a recording fake of the JobQueue port; the database is a real PGlite.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createKyselyAuditStore, createRecordAuditEvent } from '../../src/audit/index.js';
import type { Database } from '../../src/platform/db/database.js';
import { createIdGenerator } from '../../src/platform/ids.js';
import type { JobEnvelope, JobQueue } from '../../src/platform/queue/job-queue.js';
import { secureRandom } from '../../src/platform/random.js';
import { asCaller, createAdmin } from '../fixtures/admin.js';
import { createPgliteTestDatabase } from '../fixtures/database.js';
import { createTestApp, registerAndLogin, type TestApp } from '../fixtures/test-app.js';

function recordingQueue() {
  const queue = {
    jobs: [] as JobEnvelope[],
    down: false,
    /** While set, add() waits for it: a slow queue (a handler still running, Redis lagging). */
    gate: undefined as Promise<void> | undefined,
    async add(batch: readonly JobEnvelope[]) {
      await queue.gate;
      if (queue.down) throw new Error('queue unavailable');
      queue.jobs.push(...batch);
    },
    async close() {},
  };
  return queue satisfies JobQueue;
}

/** Writes one audit event as another instance would: committed, but no nudge reaches this one. */
async function recordElsewhere(t: TestApp): Promise<string> {
  const record = createRecordAuditEvent({ clock: t.clock, ids: createIdGenerator(t.clock, secureRandom) });
  const event = await t.database.db.transaction().execute((tx) => record(createKyselyAuditStore(tx), { type: 'user.locked', outcome: 'success', actor: 'admin-1' }));
  return event.id;
}

function unsealed(database: Database): Promise<number> {
  return createKyselyAuditStore(database.db).countUnsealed();
}

/** Polls until nothing is left unsealed; fails after `ms`. For claims about background passes only. */
async function waitUntilSealed(database: Database, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await unsealed(database)) > 0) {
    if (Date.now() > deadline) assert.fail(`events still unsealed after ${ms} ms`);
    await delay(20);
  }
}

// The timer never fires in these tests unless a test asks for it.
const NO_TIMER = { PORTCULLIS_AUDIT__SEAL_INTERVAL_MS: '3600000' };

describe('audit sealing in the running service', () => {
  it('seals a request\'s events and relays them to the job queue in chain order, as {id, name: type, data: view}', async () => {
    const queue = recordingQueue();
    const t = await createTestApp({ jobQueue: queue, env: NO_TIMER });
    try {
      const s = await registerAndLogin(t.app);
      await t.registry.sealAuditChain();
      assert.deepEqual(await t.registry.verifyAuditChain(), { ok: true, checked: 2, unsealed: 0 });
      const chain = await createKyselyAuditStore(t.database.db).readChain(null, 100);
      assert.deepEqual(queue.jobs.map((j) => [j.id, j.name]), chain.map((e) => [e.id, e.type]));
      assert.deepEqual(queue.jobs.map((j) => j.name), ['user.registered', 'auth.login.succeeded']);
      const data = queue.jobs[1]!.data as Record<string, unknown>;
      assert.equal(data.actor, s.userId);
      assert.equal(data.outcome, 'success');
      assert.ok(!JSON.stringify(queue.jobs).includes(s.password), 'no secret reaches the queue');
    } finally {
      await t.close();
    }
  });

  it('seals an audited request soon after it commits, without waiting for the timer', async () => {
    const t = await createTestApp({ env: NO_TIMER });
    try {
      await registerAndLogin(t.app);
      await waitUntilSealed(t.database, 5_000);
      assert.deepEqual(await t.registry.verifyAuditChain(), { ok: true, checked: 2, unsealed: 0 });
    } finally {
      await t.close();
    }
  });

  it('seals on its timer what another instance committed', async () => {
    const t = await createTestApp({ env: { PORTCULLIS_AUDIT__SEAL_INTERVAL_MS: '25' } });
    try {
      await recordElsewhere(t);
      assert.equal(await unsealed(t.database), 1);
      await waitUntilSealed(t.database, 5_000);
    } finally {
      await t.close();
    }
  });

  it('runs a last seal and relay pass on close, so a graceful shutdown leaves nothing unsealed', async () => {
    const database = await createPgliteTestDatabase();
    try {
      const queue = recordingQueue();
      const t = await createTestApp({ database, jobQueue: queue, env: NO_TIMER });
      const id = await recordElsewhere(t);
      assert.equal(await unsealed(database), 1);
      await t.close();
      assert.equal(await unsealed(database), 0);
      assert.deepEqual(queue.jobs.map((j) => j.id), [id]);
    } finally {
      await database.close();
    }
  });

  it('keeps sealing on its timer while a slow queue holds up the relay', async () => {
    const queue = recordingQueue();
    let open = () => undefined as void;
    queue.gate = new Promise<void>((resolve) => { open = resolve; });
    const t = await createTestApp({ jobQueue: queue, env: { PORTCULLIS_AUDIT__SEAL_INTERVAL_MS: '25' } });
    try {
      await recordElsewhere(t);
      await waitUntilSealed(t.database, 5_000);
      // The relay of that first event is now stuck in add(); sealing must go on regardless.
      await recordElsewhere(t);
      await waitUntilSealed(t.database, 5_000);
      assert.equal(queue.jobs.length, 0);
      open();
      await t.registry.sealAuditChain();
      assert.equal(queue.jobs.length, 2);
    } finally {
      open();
      await t.close();
    }
  });

  it('lists the latest events to an admin while a slow queue holds up the relay: readers wait for sealing, never for the queue', { timeout: 15_000 }, async () => {
    const queue = recordingQueue();
    let open = () => undefined as void;
    const t = await createTestApp({ jobQueue: queue, env: NO_TIMER });
    try {
      const admin = await createAdmin(t);
      queue.gate = new Promise<void>((resolve) => { open = resolve; });
      const id = await recordElsewhere(t);
      const res = await asCaller(t, admin.accessToken, 'GET', '/v1/admin/audit-events?type=user.locked');
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual((JSON.parse(res.body) as { items: { id: string }[] }).items.map((e) => e.id), [id]);
      assert.equal(queue.jobs.some((j) => j.id === id), false, 'the relay is still waiting on the queue');
    } finally {
      open();
      await t.close();
    }
  });

  it('keeps sealing while the queue is down, logs the failure, and relays the backlog once the queue is back', async () => {
    const queue = recordingQueue();
    queue.down = true;
    const t = await createTestApp({ jobQueue: queue, env: NO_TIMER });
    try {
      await recordElsewhere(t);
      await recordElsewhere(t);
      assert.deepEqual(await t.registry.sealAuditChain(), { sealed: 2, locked: true });
      assert.equal(await unsealed(t.database), 0);
      assert.equal(queue.jobs.length, 0);
      assert.ok(t.logLines.some((l) => l.level === 50 && /audit seal or relay pass failed/.test(String(l.msg))), 'the failure is logged');
      queue.down = false;
      await t.registry.sealAuditChain();
      assert.equal(queue.jobs.length, 2);
    } finally {
      await t.close();
    }
  });

  it('reports the sealer and relay backlogs in /metrics, read from the database at each scrape', async () => {
    const queue = recordingQueue();
    queue.down = true;
    const t = await createTestApp({ jobQueue: queue, env: NO_TIMER });
    const gauge = async (name: string): Promise<number> => {
      const text = (await t.app.inject({ url: '/metrics' })).body;
      const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
      assert.ok(match, `${name} is exposed`);
      return Number(match[1]);
    };
    try {
      await t.registry.sealAuditChain();
      const unrelayedBefore = await gauge('portcullis_audit_unrelayed_events');
      await recordElsewhere(t);
      await recordElsewhere(t);
      assert.equal(await gauge('portcullis_audit_unsealed_events'), 2);
      await t.registry.sealAuditChain();
      assert.equal(await gauge('portcullis_audit_unsealed_events'), 0);
      assert.equal(await gauge('portcullis_audit_unrelayed_events'), unrelayedBefore + 2, 'sealed but held back by the queue');
      queue.down = false;
      await t.registry.sealAuditChain();
      assert.equal(await gauge('portcullis_audit_unrelayed_events'), 0);
    } finally {
      await t.close();
    }
  });
});
