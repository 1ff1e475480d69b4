/**
 * The behaviour every ExpiringSet adapter owes its callers (revocation checks on every request),
 * run unchanged against the in-process and the Redis adapters. Time is a manual clock shared by
 * all instances of one test, so expiry is exact and no test sleeps for it; the only real waits are
 * for pub/sub delivery between instances (bounded at 100 ms, as the port promises).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Clock, createManualClock } from '../clock.js';
import type { ExpiringSet } from './expiring-set.js';

/** One test's backing store: every instance it opens shares the same members. */
export interface ExpiringSetBackend {
  /** Opens an instance, ready to answer (`has` reflects everything added before). */
  open(): Promise<ExpiringSet>;
  /** Opens an instance on its own connections; absent when the adapter has no second instance. */
  openSecond?: () => Promise<ExpiringSet>;
}

/** How the contract gets a fresh, empty store per test. */
export interface ExpiringSetContractTarget {
  /** A store no other test sees, judging expiry by `clock`. */
  createBackend(clock: Clock): ExpiringSetBackend;
  /** Why the cross-instance tests do not apply (an in-process adapter); they run when absent. */
  noSecondInstance?: string;
}

/** Members a caller may legitimately hold: ids are opaque, so none may be mangled or confused with another. */
const AWKWARD_MEMBERS = ['', ' ', 'a:b', '1767225600000:spoof', '{"m":"x","e":1}', 'ünïcødé 🔑', 'line\nbreak', 'x'.repeat(1_000)];
const CROSS_INSTANCE_DEADLINE_MS = 100;

/** Polls `condition` every few ms; resolves with the time it took, rejects after `deadlineMs`. */
async function within(deadlineMs: number, condition: () => boolean): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (condition()) return performance.now() - start;
    if (performance.now() - start > deadlineMs) throw new Error(`condition not met within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Registers the ExpiringSet contract tests (node:test) for one adapter under `name`. */
export function expiringSetContract(name: string, target: ExpiringSetContractTarget): void {
  /** Runs `body` with a fresh clock and store, closing every instance it opened afterwards. */
  function withStore(body: (ctx: { clock: ReturnType<typeof createManualClock>; open: () => Promise<ExpiringSet>; openSecond: () => Promise<ExpiringSet> }) => Promise<void>) {
    return async () => {
      const clock = createManualClock();
      const backend = target.createBackend(clock);
      const opened: ExpiringSet[] = [];
      const track = async (opening: Promise<ExpiringSet>) => {
        const set = await opening;
        opened.push(set);
        return set;
      };
      try {
        await body({
          clock,
          open: () => track(backend.open()),
          openSecond: () => {
            if (!backend.openSecond) throw new Error('this backend has no second instance');
            return track(backend.openSecond());
          },
        });
      } finally {
        await Promise.all(opened.map((set) => set.close()));
      }
    };
  }
  const crossInstance = { skip: target.noSecondInstance ?? false };

  describe(`ExpiringSet contract: ${name}`, () => {
    it('holds a member until its expiry and drops it from that very millisecond on', withStore(async ({ clock, open }) => {
      const set = await open();
      const expiresAt = clock.nowMs() + 1_000;
      assert.equal(set.has('s1'), false);
      await set.add('s1', expiresAt);
      assert.equal(set.has('s1'), true);
      clock.advanceMs(999);
      assert.equal(set.has('s1'), true);
      clock.advanceMs(1);
      assert.equal(set.has('s1'), false);
      assert.equal(set.size(), 0);
    }));

    it('keeps the later expiry when a member is added again, in either order', withStore(async ({ clock, open }) => {
      const set = await open();
      const t0 = clock.nowMs();
      await set.add('longer-first', t0 + 2_000);
      await set.add('longer-first', t0 + 1_000);
      await set.add('longer-last', t0 + 1_000);
      await set.add('longer-last', t0 + 2_000);
      clock.advanceMs(1_500);
      assert.equal(set.has('longer-first'), true);
      assert.equal(set.has('longer-last'), true);
      clock.advanceMs(500);
      assert.equal(set.has('longer-first'), false);
      assert.equal(set.has('longer-last'), false);
    }));

    it('never reports a member whose expiry has already passed when it is added', withStore(async ({ clock, open }) => {
      const set = await open();
      await set.add('expires-now', clock.nowMs());
      await set.add('expired', clock.nowMs() - 1);
      assert.equal(set.has('expires-now'), false);
      assert.equal(set.has('expired'), false);
      assert.equal(set.size(), 0);
    }));

    it('counts only live members in size', withStore(async ({ clock, open }) => {
      const set = await open();
      const t0 = clock.nowMs();
      await set.add('a', t0 + 1_000);
      await set.add('b', t0 + 2_000);
      await set.add('c', t0 + 3_000);
      await set.add('c', t0 + 3_000);
      assert.equal(set.size(), 3);
      clock.advanceMs(1_000);
      assert.equal(set.size(), 2);
      clock.advanceMs(2_000);
      assert.equal(set.size(), 0);
    }));

    it('keeps members verbatim whatever characters they hold, and never confuses one with another', withStore(async ({ clock, open }) => {
      const set = await open();
      for (const member of AWKWARD_MEMBERS) await set.add(member, clock.nowMs() + 1_000);
      for (const member of AWKWARD_MEMBERS) assert.equal(set.has(member), true, JSON.stringify(member.slice(0, 20)));
      for (const near of ['a', 'b', 'spoof', 'x'.repeat(999), 'ünïcødé']) assert.equal(set.has(near), false, near);
      assert.equal(set.size(), AWKWARD_MEMBERS.length);
    }));

    it('closes more than once without error', withStore(async ({ open }) => {
      const set = await open();
      await set.close();
      await set.close();
    }));

    it(`shows a member added on one instance on another within ${CROSS_INSTANCE_DEADLINE_MS} ms`, crossInstance, withStore(async ({ clock, open, openSecond }) => {
      const a = await open();
      const b = await openSecond();
      for (const member of AWKWARD_MEMBERS) {
        await a.add(member, clock.nowMs() + 1_000);
        await within(CROSS_INSTANCE_DEADLINE_MS, () => b.has(member));
      }
      await b.add('from-b', clock.nowMs() + 1_000);
      await within(CROSS_INSTANCE_DEADLINE_MS, () => a.has('from-b'));
      assert.equal(b.size(), AWKWARD_MEMBERS.length + 1);
      clock.advanceMs(1_000);
      assert.equal(a.has('from-b'), false);
      assert.equal(b.has(AWKWARD_MEMBERS[0] as string), false);
    }));

    it('keeps the later expiry across instances, whichever instance adds the earlier one', crossInstance, withStore(async ({ clock, open, openSecond }) => {
      const a = await open();
      const b = await openSecond();
      const t0 = clock.nowMs();
      await a.add('m', t0 + 3_000);
      await within(CROSS_INSTANCE_DEADLINE_MS, () => b.has('m'));
      await b.add('m', t0 + 1_000);
      // Let b's (shorter) announcement reach a before judging a.
      await new Promise((resolve) => setTimeout(resolve, 50));
      clock.advanceMs(2_000);
      assert.equal(a.has('m'), true);
      assert.equal(b.has('m'), true);
      const late = await openSecond();
      assert.equal(late.has('m'), true);
      clock.advanceMs(1_000);
      for (const set of [a, b, late]) assert.equal(set.has('m'), false);
    }));

    it('answers for members added before it opened as soon as it is ready, with their latest expiry', crossInstance, withStore(async ({ clock, open, openSecond }) => {
      const a = await open();
      const t0 = clock.nowMs();
      await a.add('kept', t0 + 1_000);
      await a.add('kept', t0 + 3_000);
      await a.add('expired-before-open', t0 + 500);
      clock.advanceMs(600);
      const late = await openSecond();
      assert.equal(late.has('kept'), true);
      assert.equal(late.has('expired-before-open'), false);
      assert.equal(late.size(), 1);
      clock.advanceMs(2_000);
      assert.equal(late.has('kept'), true);
      clock.advanceMs(400);
      assert.equal(late.has('kept'), false);
    }));
  });
}
