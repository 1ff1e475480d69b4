import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEventInput } from './record-audit-event.js';
import { createAuditGroupCommit, type GroupCommitStores } from './audit-group-commit.js';

/** A transact over an in-memory log: commits append the transaction's events, a failure discards them. */
function memoryTransact(options: { failOnType?: string } = {}) {
  const committed: AuditEventInput[][] = [];
  let release: (() => void) | undefined;
  const gates: Promise<void>[] = [];
  const transact = async <T>(work: (stores: GroupCommitStores) => Promise<T>): Promise<T> => {
    const written: AuditEventInput[] = [];
    const result = await work({ audit: { record: async (input) => { written.push(input); } } });
    const gate = gates.shift();
    if (gate) await gate;
    if (written.some((e) => e.type === options.failOnType)) throw new Error('commit failed');
    committed.push(written);
    return result;
  };
  return {
    transact, committed,
    /** Holds the next commit until `release()`. */
    hold() { gates.push(new Promise<void>((resolve) => { release = resolve; })); },
    release: () => release?.(),
  };
}

const event = (n: number, type = 'policy.denied'): AuditEventInput => ({ type, outcome: 'failure', data: { n } });

describe('audit group commit', () => {
  it('writes a lone event at once, in a transaction of its own', async () => {
    const db = memoryTransact();
    const group = createAuditGroupCommit({ transact: db.transact, maxBatch: 100 });
    await group.record(event(1));
    assert.deepEqual(db.committed, [[event(1)]]);
  });

  it('puts the events that arrive during a commit into the next transaction, and answers nobody before its event is committed', async () => {
    const db = memoryTransact();
    const group = createAuditGroupCommit({ transact: db.transact, maxBatch: 100 });
    db.hold();
    const first = group.record(event(1));
    let laterDone = 0;
    const later = [2, 3, 4, 5].map((n) => group.record(event(n)).then(() => { laterDone++; }));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(laterDone, 0);
    assert.deepEqual(db.committed, [], 'the first commit is still in flight');
    db.release();
    await Promise.all([first, ...later]);
    assert.deepEqual(db.committed, [[event(1)], [event(2), event(3), event(4), event(5)]]);
  });

  it('caps a transaction at maxBatch events', async () => {
    const db = memoryTransact();
    const group = createAuditGroupCommit({ transact: db.transact, maxBatch: 2 });
    db.hold();
    const all = [1, 2, 3, 4, 5, 6].map((n) => group.record(event(n)));
    db.release();
    await Promise.all(all);
    assert.deepEqual(db.committed.map((batch) => batch.length), [1, 2, 2, 1]);
  });

  it('rejects every caller of a failed transaction, and goes on with the next batch', async () => {
    const db = memoryTransact({ failOnType: 'poison' });
    const group = createAuditGroupCommit({ transact: db.transact, maxBatch: 100 });
    db.hold();
    const first = group.record(event(1));
    const failed = [group.record(event(2)), group.record(event(3, 'poison'))];
    db.release();
    await first;
    for (const outcome of await Promise.allSettled(failed)) assert.equal(outcome.status, 'rejected');
    await group.record(event(4));
    assert.deepEqual(db.committed, [[event(1)], [event(4)]]);
  });
});
