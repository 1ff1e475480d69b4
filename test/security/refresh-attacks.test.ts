/*
 * Threat: refresh tokens are long-lived bearer secrets. An attacker who steals one (from a
 * device, a log, a backup or the database) tries to replay it after the legitimate client has
 * rotated it, to race the legitimate client with parallel refreshes, to break the endpoint with
 * hostile values, or to read usable tokens out of the database. A spent token presented again
 * must be treated as theft (RFC 9700 4.14.2): refused, audited, and the whole session revoked,
 * access tokens included; concurrent presentations must have exactly one winner; nothing
 * hostile may produce a 5xx or a 200; and the database must hold only hashes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, json, registerAndLogin, type TestApp } from '../fixtures/test-app.js';

const INVALID_TOKEN = 'https://portcullis.dev/problems/invalid-token';
const INVALID_REFRESH_TOKEN = 'https://portcullis.dev/problems/invalid-refresh-token';
const VALIDATION_FAILED = 'https://portcullis.dev/problems/validation-failed';

interface Pair { accessToken: string; refreshToken: string }

describe('refresh-token attacks on POST /v1/auth/refresh', () => {
  let t: TestApp;
  before(async () => { t = await createTestApp(); });
  after(async () => { await t.close(); });

  const refresh = (refreshToken: unknown, ip = '10.9.0.1'): Promise<LightMyRequestResponse> =>
    t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken }, remoteAddress: ip });

  function assertRefreshRefused(res: LightMyRequestResponse): void {
    assert.equal(res.statusCode, 401, res.body);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal(json(res).type, INVALID_REFRESH_TOKEN);
  }

  async function assertAccessRefused(accessToken: string): Promise<void> {
    for (const url of ['/v1/auth/whoami', '/v1/auth/me']) {
      const res = await t.app.inject({ url, headers: { authorization: `Bearer ${accessToken}` } });
      assert.equal(res.statusCode, 401, `${url}: ${res.body}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal(json(res).type, INVALID_TOKEN);
      assert.match(String(res.headers['www-authenticate']), /^Bearer/);
    }
  }

  async function sidOf(accessToken: string): Promise<string> {
    const res = await t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${accessToken}` } });
    assert.equal(res.statusCode, 200, res.body);
    return json<{ sid: string }>(res).sid;
  }

  it('treats a refresh token reused after rotation as theft: 401, and the whole session dies', async () => {
    const s = await registerAndLogin(t.app);
    const sid = await sidOf(s.accessToken);

    const legit = await refresh(s.refreshToken);
    assert.equal(legit.statusCode, 200);
    const rotated = json<Pair>(legit);
    assert.notEqual(rotated.refreshToken, s.refreshToken);
    assert.equal(await sidOf(rotated.accessToken), sid, 'rotation keeps the session');

    // The attacker replays the stolen, now spent, token.
    const reuse = await refresh(s.refreshToken, '203.0.113.66');
    assertRefreshRefused(reuse);

    // The legitimate client's new refresh token is dead too ...
    assertRefreshRefused(await refresh(rotated.refreshToken));
    // ... and so is every access token of the session, old and new.
    await assertAccessRefused(s.accessToken);
    await assertAccessRefused(rotated.accessToken);

    const session = await t.database.db.selectFrom('sessions').selectAll().where('id', '=', sid).executeTakeFirstOrThrow();
    assert.notEqual(session.revoked_at, null, 'the session row is revoked');
    assert.equal(session.revoke_reason, 'refresh_token_reuse');

    const events = await t.database.db.selectFrom('audit_events').selectAll().where('type', '=', 'auth.token.reuse_detected').where('subject', '=', sid).execute();
    assert.equal(events.length, 1, 'one reuse_detected audit event for the session');
    const event = events[0]!;
    assert.equal(event.actor, s.userId);
    assert.equal(event.outcome, 'failure');
    assert.equal(event.ip, '203.0.113.66', 'the event records where the replay came from');
    assert.equal((event.data as { sessionId?: string }).sessionId, sid);
  });

  it('keeps refusing a spent token on every further replay, and leaves other sessions of the user alone', async () => {
    const s = await registerAndLogin(t.app);
    // A second, independent login of the same account.
    const other = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: s.email, password: s.password }, remoteAddress: '10.0.0.1' });
    assert.equal(other.statusCode, 200);
    const otherPair = json<Pair>(other);

    assert.equal((await refresh(s.refreshToken)).statusCode, 200);
    for (let i = 0; i < 3; i++) assertRefreshRefused(await refresh(s.refreshToken));

    assert.equal((await t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${otherPair.accessToken}` } })).statusCode, 200);
    assert.equal((await refresh(otherPair.refreshToken)).statusCode, 200, 'the other session is not collateral damage');
  });

  it('lets exactly one of 20 concurrent refreshes of one token win; the 19 others are refused', async () => {
    const s = await registerAndLogin(t.app);
    const sid = await sidOf(s.accessToken);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => refresh(s.refreshToken, `10.9.1.${i + 1}`)));
    const statuses = results.map((r) => r.statusCode);
    assert.equal(statuses.filter((c) => c === 200).length, 1, `exactly one 200 (got ${statuses.join(',')})`);
    assert.equal(statuses.filter((c) => c === 401).length, 19, 'nineteen 401');
    for (const res of results) if (res.statusCode === 401) assertRefreshRefused(res);

    // Every loser presented a spent token: that is reuse, so the session is revoked, the winner's pair included.
    const winner = json<Pair>(results.find((r) => r.statusCode === 200)!);
    assertRefreshRefused(await refresh(winner.refreshToken));
    await assertAccessRefused(winner.accessToken);
    const events = await t.database.db.selectFrom('audit_events').selectAll().where('type', '=', 'auth.token.reuse_detected').where('subject', '=', sid).execute();
    assert.ok(events.length >= 1, 'the race was audited as reuse');
    const issued = await t.database.db.selectFrom('refresh_tokens').select(['token_hash']).where('session_id', '=', sid).execute();
    assert.equal(issued.length, 2, 'only one new refresh token was ever issued for the session');
  });

  it('answers hostile refresh-token values with 400 or 401, never 5xx and never 200', async () => {
    const hostile: unknown[] = [
      '', 'a', '='.repeat(43), 'A'.repeat(400), 'A'.repeat(600), "' OR 1=1 --", "'; DROP TABLE refresh_tokens; --",
      `${'A'.repeat(42)}'`, `${'A'.repeat(42)}%`, '\u0000'.repeat(43), '../'.repeat(15), '🔑'.repeat(43),
      0, 1, -1, 1e308, true, false, null, [], {}, ['A'.repeat(43)], { $ne: null },
    ];
    for (const value of hostile) {
      const res = await refresh(value);
      const label = JSON.stringify(value)?.slice(0, 40);
      assert.ok(res.statusCode === 400 || res.statusCode === 401, `${label} -> ${res.statusCode} ${res.body}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.equal(json(res).type, res.statusCode === 400 ? VALIDATION_FAILED : INVALID_REFRESH_TOKEN, label);
    }
    // Bodies of the wrong shape entirely.
    for (const payload of ['[]', '"x"', '1', 'null', '{"refreshToken":"x","extra":1}', '{}']) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload, headers: { 'content-type': 'application/json' } });
      assert.ok(res.statusCode === 400 || res.statusCode === 401, `${payload} -> ${res.statusCode} ${res.body}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    }
    // The database survived.
    const rows = await t.database.db.selectFrom('refresh_tokens').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    assert.ok(Number(rows.n) > 0);
  });

  it('refuses a well-formed (43 base64url characters) but never issued refresh token', async () => {
    const forged = Buffer.alloc(32, 7).toString('base64url');
    assert.equal(forged.length, 43);
    assertRefreshRefused(await refresh(forged));
  });

  it('stores refresh tokens only as SHA-256 hashes: no raw token appears anywhere in refresh_tokens', async () => {
    const s = await registerAndLogin(t.app);
    const rotated = json<Pair>(await refresh(s.refreshToken));
    const rows = await t.database.db.selectFrom('refresh_tokens').selectAll().execute();
    const dump = JSON.stringify(rows);
    for (const raw of [s.refreshToken, rotated.refreshToken]) {
      assert.ok(!dump.includes(raw), 'the raw refresh token is not stored');
      const hex = Buffer.from(raw, 'base64url').toString('hex');
      assert.ok(!dump.includes(hex), 'nor its decoded bytes');
      const hash = createHash('sha256').update(raw, 'utf8').digest('hex');
      assert.ok(rows.some((r) => r.token_hash === hash), 'its SHA-256 is what is stored');
    }
    // Nor in the audit log.
    const audit = JSON.stringify(await t.database.db.selectFrom('audit_events').selectAll().execute());
    for (const raw of [s.refreshToken, rotated.refreshToken]) assert.ok(!audit.includes(raw), 'no refresh token in audit rows');
  });

  it('refuses a refresh token after the session idle lifetime has passed', async () => {
    const s = await registerAndLogin(t.app);
    t.clock.advanceMs((t.registry.tokenOptions.sessionIdleTtlSeconds + 1) * 1000);
    assertRefreshRefused(await refresh(s.refreshToken));
  });
});
