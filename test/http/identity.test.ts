import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hash as argon2Hash } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { createTestApp, GOOD_PASSWORD, json, registerAndLogin, type TestApp, uniqueEmail } from '../fixtures/test-app.js';

const register = (t: TestApp, payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/v1/auth/register', payload });
const login = (t: TestApp, payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/v1/auth/login', payload });

async function insertUser(t: TestApp, email: string, passwordHash: string, extra: { locked?: boolean; mfa?: boolean } = {}) {
  const now = new Date(t.clock.nowMs());
  const id = `imported-${email}`;
  await t.database.db.insertInto('users').values({
    id, email, name: null, password_hash: passwordHash, roles: JSON.stringify(['user']), tenant: null,
    mfa_enabled: extra.mfa ?? false, locked_at: extra.locked ? now : null, created_at: now, updated_at: now,
  }).execute();
  return id;
}

describe('identity: password policy, hashing and login outcomes', () => {
  let t: TestApp;
  before(async () => { t = await createTestApp(); });
  after(async () => { await t.close(); });

  it('refuses weak passwords with 400 weak-password naming the rule, and creates nothing', async () => {
    const email = uniqueEmail('weak');
    const cases: Array<[string, RegExp]> = [
      ['short pass', /at least 15/],
      ['passwordpassword', /common/],
      [`${email.split('@')[0]} and more words`, /email/],
      ['x'.repeat(129), /at most 128/],
    ];
    for (const [password, message] of cases) {
      const res = await register(t, { email, password });
      assert.equal(res.statusCode, 400, password);
      const body = json<{ type: string; errors: Array<{ path: string; message: string }> }>(res);
      assert.equal(body.type, 'https://portcullis.dev/problems/weak-password');
      assert.ok(body.errors.some((e) => e.path === 'password' && message.test(e.message)), JSON.stringify(body.errors));
      assert.ok(!res.body.includes(password), 'the password is never echoed');
    }
    const row = await t.database.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
    assert.equal(row, undefined);
  });

  it('counts code points, not UTF-16 units, and never truncates', async () => {
    const emoji = '🔐'.repeat(15); // 30 UTF-16 units, 15 code points
    assert.equal((await register(t, { email: uniqueEmail(), password: emoji })).statusCode, 201);
    const long = `${'correct horse battery staple '.repeat(5)}`.slice(0, 128);
    assert.equal([...long].length, 128);
    const email = uniqueEmail();
    assert.equal((await register(t, { email, password: long })).statusCode, 201);
    assert.equal((await login(t, { email, password: long.slice(0, -1) })).statusCode, 401, 'a prefix is not the password');
    assert.equal((await login(t, { email, password: long })).statusCode, 200);
  });

  it('stores argon2id hashes with the OWASP parameters', async () => {
    const s = await registerAndLogin(t.app);
    const row = await t.database.db.selectFrom('users').select('password_hash').where('id', '=', s.userId).executeTakeFirstOrThrow();
    assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('accepts an imported bcrypt hash and upgrades it to argon2id on login', async () => {
    const email = uniqueEmail('bcrypt');
    const id = await insertUser(t, email, await bcrypt.hash(GOOD_PASSWORD, 10));
    assert.equal((await login(t, { email, password: 'wrong password for bcrypt user' })).statusCode, 401);
    assert.equal((await login(t, { email, password: GOOD_PASSWORD })).statusCode, 200);
    const row = await t.database.db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow();
    assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal((await login(t, { email, password: GOOD_PASSWORD })).statusCode, 200, 'the upgraded hash verifies');
  });

  it('upgrades argon2 hashes with outdated parameters on login', async () => {
    const email = uniqueEmail('old-params');
    const id = await insertUser(t, email, await argon2Hash(GOOD_PASSWORD, { memoryCost: 4096, timeCost: 1, parallelism: 1 }));
    assert.equal((await login(t, { email, password: GOOD_PASSWORD })).statusCode, 200);
    const row = await t.database.db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow();
    assert.match(row.password_hash, /m=19456,t=2,p=1/);
  });

  it('answers a locked account exactly like a wrong password', async () => {
    const email = uniqueEmail('locked');
    await insertUser(t, email, await argon2Hash(GOOD_PASSWORD, { memoryCost: 19456, timeCost: 2, parallelism: 1 }), { locked: true });
    const locked = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: GOOD_PASSWORD }, headers: { 'x-request-id': 'r1' } });
    const wrong = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: uniqueEmail('nobody'), password: GOOD_PASSWORD }, headers: { 'x-request-id': 'r1' } });
    assert.equal(locked.statusCode, 401);
    assert.equal(locked.body, wrong.body);
  });

  it('spends the same argon2 work on an unknown email as on a wrong password (no timing oracle)', async () => {
    const s = await registerAndLogin(t.app, uniqueEmail('timing'), GOOD_PASSWORD, '10.9.9.9');
    // The fastest of several samples: load on the machine only ever adds time, never removes argon2's.
    const fastest = async (email: string) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = process.hrtime.bigint();
        // Distinct IPs so the brute-force lock-out does not cut the sample short.
        await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: `wrong password number ${i}` }, remoteAddress: `10.8.${i}.${email.length}` });
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      return Math.min(...times);
    };
    const wrongPassword = await fastest(s.email);
    const unknownEmail = await fastest(uniqueEmail('nobody'));
    // A lookup that skips argon2 answers in well under a millisecond; both must pay the ~20 ms hash.
    assert.ok(unknownEmail > wrongPassword * 0.5, `unknown ${unknownEmail.toFixed(1)} ms vs wrong ${wrongPassword.toFixed(1)} ms`);
  });

  it('asks for a second factor with 401 mfa-required when the account has MFA', async () => {
    const email = uniqueEmail('mfa');
    await insertUser(t, email, await argon2Hash(GOOD_PASSWORD, { memoryCost: 19456, timeCost: 2, parallelism: 1 }), { mfa: true });
    const res = await login(t, { email, password: GOOD_PASSWORD });
    assert.equal(res.statusCode, 401);
    assert.match(json<{ type: string }>(res).type, /mfa-required$/);
    const wrongPassword = await login(t, { email, password: 'not the password of this account' });
    assert.match(json<{ type: string }>(wrongPassword).type, /invalid-credentials$/, 'MFA is only revealed after the password is right');
  });

  it('records registration and login outcomes in the audit log, and the chain verifies', async () => {
    const s = await registerAndLogin(t.app);
    await login(t, { email: s.email, password: 'definitely not the password' });
    const events = await t.database.db.selectFrom('audit_events').selectAll().where('actor', '=', s.userId).orderBy('seq').execute();
    assert.deepEqual(events.map((e) => e.type), ['user.registered', 'auth.login.succeeded', 'auth.login.failed']);
    assert.equal(events[2]!.outcome, 'failure');
    assert.equal((events[2]!.data as Record<string, unknown>).reason, 'bad_password');
    assert.equal(events[1]!.ip, '10.0.0.1');
    const text = JSON.stringify(events);
    assert.ok(!text.includes(s.password) && !text.includes('definitely not the password') && !text.includes(s.refreshToken));
    const verify = await t.registry.verifyAuditChain();
    assert.equal(verify.ok, true);
  });

  it('serves OpenAPI generated from the schemas at /docs', async () => {
    const res = await t.app.inject({ url: '/docs/json' });
    assert.equal(res.statusCode, 200);
    const doc = json<{ openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown>; additionalProperties?: boolean } }> } }>> }>(res);
    assert.match(doc.openapi, /^3\./);
    const schema = doc.paths['/v1/auth/register']!.post!.requestBody!.content['application/json']!.schema;
    assert.deepEqual(Object.keys(schema.properties).sort(), ['email', 'name', 'password']);
    assert.equal(schema.additionalProperties, false);
    assert.equal((await t.app.inject({ url: '/docs' })).statusCode, 200);
  });

  it('reports liveness, readiness and Prometheus metrics', async () => {
    assert.equal((await t.app.inject({ url: '/healthz' })).statusCode, 200);
    const ready = await t.app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(json(ready), { status: 'ready', checks: { database: 'ok' } });
    const metrics = await t.app.inject({ url: '/metrics' });
    assert.match(metrics.headers['content-type'] as string, /^text\/plain/);
    assert.match(metrics.body, /portcullis_login_total\{outcome="success"\} \d+/);
    assert.match(metrics.body, /portcullis_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/v1\/auth\/login",status_code="200"\}/);
  });
});
