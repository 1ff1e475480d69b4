/**
 * Contract of SessionStore over every SQL target. The refresh-token consume is the race-safe
 * primitive refresh rotation relies on: under concurrent calls with one hash exactly one
 * caller may receive 'consumed'; every other must see 'spent' (and trigger reuse detection).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createKyselyUserStore } from '../../src/identity/index.js';
import type { Database } from '../../src/platform/db/database.js';
import { createKyselySessionStore } from '../../src/tokens/index.js';
import type { ConsumeResult, RefreshTokenRecord, SessionRecord } from '../../src/tokens/store/session-store.js';
import { databaseTargets } from '../fixtures/database.js';

const T0 = Date.parse('2026-05-06T07:08:09.123Z');
const at = (ms: number) => new Date(T0 + ms);

function uniqueId(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}

function tokenHash(): string {
  return createHash('sha256').update(randomBytes(32)).digest('base64url');
}

function sessionRecord(userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: uniqueId('s'),
    userId,
    createdAt: at(0),
    lastSeenAt: at(0),
    idleExpiresAt: at(14 * 86_400_000),
    absoluteExpiresAt: at(30 * 86_400_000),
    revokedAt: null,
    revokeReason: null,
    ...overrides,
  };
}

function refreshToken(session: SessionRecord, overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  return {
    tokenHash: tokenHash(),
    sessionId: session.id,
    userId: session.userId,
    createdAt: at(5),
    expiresAt: at(14 * 86_400_000),
    consumedAt: null,
    ...overrides,
  };
}

function countStatuses(results: ConsumeResult[]) {
  return {
    consumed: results.filter((r) => r.status === 'consumed').length,
    spent: results.filter((r) => r.status === 'spent').length,
    unknown: results.filter((r) => r.status === 'unknown').length,
  };
}

for (const target of databaseTargets()) {
  describe(`SessionStore contract on ${target.name}`, () => {
    let database: Database;

    /** A fresh account (sessions reference users). */
    async function newUser(): Promise<string> {
      const id = uniqueId('u');
      const created = await createKyselyUserStore(database.db).insert({
        id, email: `${id}@example.com`, name: null, passwordHash: 'hash', roles: ['user'], tenant: null,
        mfaEnabled: false, lockedAt: null, createdAt: at(0), updatedAt: at(0),
      });
      assert.equal(created, 'created');
      return id;
    }

    /** A session with one unconsumed refresh token. */
    async function sessionWithToken(): Promise<{ session: SessionRecord; token: RefreshTokenRecord }> {
      const sessions = createKyselySessionStore(database.db);
      const session = sessionRecord(await newUser());
      await sessions.createSession(session);
      const token = refreshToken(session);
      await sessions.insertRefreshToken(token);
      return { session, token };
    }

    before(async () => { database = await target.open(); });
    after(async () => { await database.close(); });

    it('returns a created session with every field unchanged, and nothing for an unknown id', async () => {
      const sessions = createKyselySessionStore(database.db);
      const userId = await newUser();
      const live = sessionRecord(userId, { createdAt: at(1), lastSeenAt: at(2), idleExpiresAt: at(3), absoluteExpiresAt: at(4) });
      const revoked = sessionRecord(userId, { revokedAt: at(7), revokeReason: 'admin' });
      for (const session of [live, revoked]) {
        await sessions.createSession(session);
        assert.deepEqual(await sessions.findSession(session.id), session);
      }
      assert.equal(await sessions.findSession(uniqueId('s')), undefined);
    });

    it('refuses a session for an account that does not exist', async () => {
      const sessions = createKyselySessionStore(database.db);
      const orphan = sessionRecord(uniqueId('u'));
      await assert.rejects(sessions.createSession(orphan));
      assert.equal(await sessions.findSession(orphan.id), undefined);
    });

    it('touchSession moves last_seen_at and idle_expires_at and nothing else', async () => {
      const sessions = createKyselySessionStore(database.db);
      const userId = await newUser();
      const session = sessionRecord(userId);
      const bystander = sessionRecord(userId);
      await sessions.createSession(session);
      await sessions.createSession(bystander);
      await sessions.touchSession(session.id, at(60_000), at(60_000 + 14 * 86_400_000));
      assert.deepEqual(await sessions.findSession(session.id), { ...session, lastSeenAt: at(60_000), idleExpiresAt: at(60_000 + 14 * 86_400_000) });
      assert.deepEqual(await sessions.findSession(bystander.id), bystander);
    });

    it('revokeSession answers true once, then false, and the first reason and time win', async () => {
      const sessions = createKyselySessionStore(database.db);
      const session = sessionRecord(await newUser());
      await sessions.createSession(session);
      assert.equal(await sessions.revokeSession(session.id, 'logout', at(1_000)), true);
      assert.equal(await sessions.revokeSession(session.id, 'refresh_token_reuse', at(2_000)), false);
      assert.deepEqual(await sessions.findSession(session.id), { ...session, revokedAt: at(1_000), revokeReason: 'logout' });
      assert.equal(await sessions.revokeSession(uniqueId('s'), 'logout', at(1_000)), false, 'an unknown session was never live');
    });

    it('revokes a session exactly once when 10 revocations race', async () => {
      const sessions = createKyselySessionStore(database.db);
      const session = sessionRecord(await newUser());
      await sessions.createSession(session);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => sessions.revokeSession(session.id, `reason-${i}`, at(1_000 + i))));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.deepEqual(await sessions.findSession(session.id), { ...session, revokedAt: at(1_000 + winner), revokeReason: `reason-${winner}` });
    });

    it('revokeUserSessions returns the ids of live sessions only and leaves other accounts alone', async () => {
      const sessions = createKyselySessionStore(database.db);
      const userId = await newUser();
      const otherUserId = await newUser();
      const liveA = sessionRecord(userId);
      const liveB = sessionRecord(userId);
      const alreadyRevoked = sessionRecord(userId);
      const otherUsers = sessionRecord(otherUserId);
      for (const s of [liveA, liveB, alreadyRevoked, otherUsers]) await sessions.createSession(s);
      await sessions.revokeSession(alreadyRevoked.id, 'logout', at(100));

      const revoked = await sessions.revokeUserSessions(userId, 'password_changed', at(200));
      assert.deepEqual([...revoked].sort(), [liveA.id, liveB.id].sort());
      assert.deepEqual(await sessions.findSession(liveA.id), { ...liveA, revokedAt: at(200), revokeReason: 'password_changed' });
      assert.deepEqual(await sessions.findSession(liveB.id), { ...liveB, revokedAt: at(200), revokeReason: 'password_changed' });
      assert.deepEqual(await sessions.findSession(alreadyRevoked.id), { ...alreadyRevoked, revokedAt: at(100), revokeReason: 'logout' });
      assert.deepEqual(await sessions.findSession(otherUsers.id), otherUsers);
      assert.deepEqual(await sessions.revokeUserSessions(userId, 'again', at(300)), []);
      assert.deepEqual(await sessions.revokeUserSessions(await newUser(), 'none', at(300)), [], 'an account without sessions');
    });

    it('listRevokedSince returns sessions revoked at or after the bound, with their exact revocation time', async () => {
      const sessions = createKyselySessionStore(database.db);
      const userId = await newUser();
      // Far from the other tests' times, so their revocations are not in range.
      const base = 10 * 365 * 86_400_000;
      const beforeBound = sessionRecord(userId);
      const onBound = sessionRecord(userId);
      const afterBound = sessionRecord(userId);
      const live = sessionRecord(userId);
      for (const s of [beforeBound, onBound, afterBound, live]) await sessions.createSession(s);
      await sessions.revokeSession(beforeBound.id, 'logout', at(base - 1));
      await sessions.revokeSession(onBound.id, 'logout', at(base));
      await sessions.revokeSession(afterBound.id, 'logout', at(base + 5_000));

      const listed = await sessions.listRevokedSince(at(base));
      const sorted = [...listed].sort((a, b) => a.revokedAt.getTime() - b.revokedAt.getTime());
      assert.deepEqual(sorted, [{ id: onBound.id, revokedAt: at(base) }, { id: afterBound.id, revokedAt: at(base + 5_000) }]);
      assert.deepEqual(await sessions.listRevokedSince(at(base + 5_001)), []);
    });

    it('consumes a refresh token once: consumed, then spent with the first consumption time, and unknown for a hash never stored', async () => {
      const sessions = createKyselySessionStore(database.db);
      const { token } = await sessionWithToken();
      assert.deepEqual(await sessions.consumeRefreshToken(token.tokenHash, at(10_000)), { status: 'consumed', token: { ...token, consumedAt: at(10_000) } });
      assert.deepEqual(await sessions.consumeRefreshToken(token.tokenHash, at(20_000)), { status: 'spent', token: { ...token, consumedAt: at(10_000) } });
      assert.deepEqual(await sessions.consumeRefreshToken(token.tokenHash, at(30_000)), { status: 'spent', token: { ...token, consumedAt: at(10_000) } });
      assert.deepEqual(await sessions.consumeRefreshToken(tokenHash(), at(10_000)), { status: 'unknown' });
    });

    it('consuming one token leaves the other tokens of the session unconsumed', async () => {
      const sessions = createKyselySessionStore(database.db);
      const { session, token } = await sessionWithToken();
      const sibling = refreshToken(session);
      await sessions.insertRefreshToken(sibling);
      assert.equal((await sessions.consumeRefreshToken(token.tokenHash, at(1))).status, 'consumed');
      assert.deepEqual(await sessions.consumeRefreshToken(sibling.tokenHash, at(2)), { status: 'consumed', token: { ...sibling, consumedAt: at(2) } });
    });

    for (const mode of ['without transactions', 'each in its own transaction'] as const) {
      it(`gives exactly one of 20 concurrent consumers of one token 'consumed' and the other 19 'spent' (${mode})`, async () => {
        const { token } = await sessionWithToken();
        const consume = (i: number): Promise<ConsumeResult> => mode === 'without transactions'
          ? createKyselySessionStore(database.db).consumeRefreshToken(token.tokenHash, at(100_000 + i))
          // Separate transactions take separate pool connections on PostgreSQL, so the race is real.
          : database.db.transaction().execute((tx) => createKyselySessionStore(tx).consumeRefreshToken(token.tokenHash, at(100_000 + i)));
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => consume(i)));

        assert.deepEqual(countStatuses(results), { consumed: 1, spent: 19, unknown: 0 });
        const winner = results.findIndex((r) => r.status === 'consumed');
        const consumedAt = at(100_000 + winner);
        assert.deepEqual(results[winner], { status: 'consumed', token: { ...token, consumedAt } });
        for (const result of results) {
          if (result.status === 'spent') assert.deepEqual(result.token, { ...token, consumedAt }, 'a loser sees the winner\'s consumption');
        }
        assert.deepEqual(await createKyselySessionStore(database.db).consumeRefreshToken(token.tokenHash, at(200_000)), { status: 'spent', token: { ...token, consumedAt } });
      });
    }

    it('gives each of 10 tokens consumed concurrently 5 times each exactly one winner', async () => {
      const pairs = await Promise.all(Array.from({ length: 10 }, () => sessionWithToken()));
      const attempts = pairs.flatMap(({ token }) => Array.from({ length: 5 }, (_, i) =>
        database.db.transaction().execute((tx) => createKyselySessionStore(tx).consumeRefreshToken(token.tokenHash, at(i)))
          .then((result) => ({ hash: token.tokenHash, result }))));
      const outcomes = await Promise.all(attempts);
      for (const { token } of pairs) {
        const mine = outcomes.filter((o) => o.hash === token.tokenHash).map((o) => o.result);
        assert.deepEqual(countStatuses(mine), { consumed: 1, spent: 4, unknown: 0 });
      }
    });
  });
}
