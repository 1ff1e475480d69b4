/**
 * Revocation checks while the shared set cannot be trusted (Redis down, mirror re-syncing): the
 * database answers, at most once per session per cacheMs, and a failed publish never fails the
 * logout that committed it. On every SQL target; the only fake is the in-sync switch and, for the
 * fault test, a store that fails.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { databaseTargets } from '../../../test/fixtures/database.js';
import { createKyselyUserStore } from '../../identity/index.js';
import { createManualClock } from '../../platform/clock.js';
import type { Database } from '../../platform/db/database.js';
import type { ExpiringSet } from '../../platform/kv/expiring-set.js';
import { createMemoryExpiringSet } from '../../platform/kv/memory-expiring-set.js';
import { createKyselySessionStore } from '../store/kysely-session-store.js';
import type { SessionStore } from '../store/session-store.js';
import { createRevocationReconciler, createSessionRevocations } from './revocation.js';

const OPTIONS = { accessTtlSeconds: 600, clockSkewSeconds: 30 };

for (const target of databaseTargets()) {
  describe(`session revocations with a database fallback on ${target.name}`, () => {
    let database: Database;
    let sessions: SessionStore;
    before(async () => {
      database = await target.open();
      sessions = createKyselySessionStore(database.db);
    });
    after(async () => { await database.close(); });

    /** A live session of a fresh account; returns its id. */
    async function liveSession(nowMs: number): Promise<string> {
      const userId = `u_${randomBytes(6).toString('hex')}`;
      const at = new Date(nowMs);
      await createKyselyUserStore(database.db).insert({
        id: userId, email: `${userId}@example.com`, name: null, passwordHash: 'hash', roles: ['user'], tenant: null,
        mfaEnabled: false, lockedAt: null, createdAt: at, updatedAt: at,
      });
      const id = `s_${randomBytes(6).toString('hex')}`;
      await sessions.createSession({
        id, userId, createdAt: at, lastSeenAt: at, idleExpiresAt: new Date(nowMs + 86_400_000),
        absoluteExpiresAt: new Date(nowMs + 86_400_000), revokedAt: null, revokeReason: null,
      });
      return id;
    }

    /** Counts the store's lookups, so a test can tell a cached answer from a fresh query. */
    function counting(store: SessionStore) {
      const counter = { lookups: 0 };
      return { counter, store: { findSession: (id: string) => { counter.lookups++; return store.findSession(id); } } };
    }

    it('answers synchronously from the set while in sync, without touching the database', async () => {
      const clock = createManualClock();
      const id = await liveSession(clock.nowMs());
      const { counter, store } = counting(sessions);
      const revocations = createSessionRevocations(createMemoryExpiringSet(clock), OPTIONS, { isInSync: () => true, sessions: store, clock });
      assert.equal(revocations.isRevoked(id), false);
      await revocations.publish(id, clock.nowMs());
      assert.equal(revocations.isRevoked(id), true);
      assert.equal(counter.lookups, 0);
    });

    it('asks the database while out of sync: revoked, live and unknown sessions', async () => {
      const clock = createManualClock();
      const live = await liveSession(clock.nowMs());
      const revoked = await liveSession(clock.nowMs());
      assert.equal(await sessions.revokeSession(revoked, 'logout', new Date(clock.nowMs())), true);
      const fallbacks: string[] = [];
      const revocations = createSessionRevocations(createMemoryExpiringSet(clock), OPTIONS, {
        isInSync: () => false, sessions, clock, onFallback: (component) => fallbacks.push(component),
      });
      const answer = revocations.isRevoked(live);
      assert.ok(answer instanceof Promise, 'out of sync, the answer is a database lookup');
      assert.equal(await answer, false);
      assert.equal(await revocations.isRevoked(revoked), true);
      assert.equal(await revocations.isRevoked('s_never_issued'), true, 'a session the database does not know is refused');
      assert.deepEqual(fallbacks, ['revocation_check', 'revocation_check', 'revocation_check']);
    });

    it('reuses one answer per session for cacheMs (concurrent checks share one query), then asks again', async () => {
      const clock = createManualClock();
      const id = await liveSession(clock.nowMs());
      const { counter, store } = counting(sessions);
      const revocations = createSessionRevocations(createMemoryExpiringSet(clock), OPTIONS, { isInSync: () => false, sessions: store, clock, cacheMs: 1_000 });
      assert.deepEqual(await Promise.all(Array.from({ length: 20 }, () => revocations.isRevoked(id))), Array(20).fill(false));
      assert.equal(counter.lookups, 1);
      await sessions.revokeSession(id, 'logout', new Date(clock.nowMs()));
      clock.advanceMs(999);
      assert.equal(await revocations.isRevoked(id), false, 'the documented staleness: up to cacheMs');
      clock.advanceMs(1);
      assert.equal(await revocations.isRevoked(id), true);
      assert.equal(counter.lookups, 2);
    });

    it('fails closed when the database cannot answer either, and does not cache the failure', async () => {
      const clock = createManualClock();
      const id = await liveSession(clock.nowMs());
      let down = true;
      const flaky = { findSession: (sessionId: string) => (down ? Promise.reject(new Error('Connection terminated unexpectedly')) : sessions.findSession(sessionId)) };
      const revocations = createSessionRevocations(createMemoryExpiringSet(clock), OPTIONS, { isInSync: () => false, sessions: flaky, clock });
      await assert.rejects(Promise.resolve(revocations.isRevoked(id)), /Connection terminated/);
      down = false;
      assert.equal(await revocations.isRevoked(id), false, 'asked again at once, not answered from a cached failure');
    });

    it('never fails a publish the shared set refused, and counts it', async () => {
      const clock = createManualClock();
      const refusing: ExpiringSet = { ...createMemoryExpiringSet(clock), add: () => Promise.reject(new Error('Connection is closed.')) };
      const fallbacks: string[] = [];
      const errors: unknown[] = [];
      const revocations = createSessionRevocations(refusing, OPTIONS, {
        isInSync: () => false, sessions, clock, onFallback: (component) => fallbacks.push(component), onError: (error) => errors.push(error),
      });
      await revocations.publish('s_any', clock.nowMs());
      assert.deepEqual(fallbacks, ['revocation_publish']);
      assert.equal(errors.length, 1);
    });

    it('lists the database revocations still within one token lifetime, as set members with their expiry', async () => {
      const clock = createManualClock(Date.now() + 365 * 86_400_000);
      const lifetimeMs = (OPTIONS.accessTtlSeconds + OPTIONS.clockSkewSeconds) * 1000;
      const recent = await liveSession(clock.nowMs());
      const old = await liveSession(clock.nowMs());
      await sessions.revokeSession(recent, 'logout', new Date(clock.nowMs() - 1_000));
      await sessions.revokeSession(old, 'logout', new Date(clock.nowMs() - lifetimeMs - 1_000));
      const entries = await createRevocationReconciler({ sessions, clock, options: OPTIONS })();
      const members = new Map(entries);
      assert.equal(members.get(`sid:${recent}`), clock.nowMs() - 1_000 + lifetimeMs);
      assert.equal(members.has(`sid:${old}`), false);
    });
  });
}
