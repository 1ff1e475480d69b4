/*
 * Threat: a client sends hostile input to the public identity endpoints. It tries mass
 * assignment (granting itself a role at registration), prototype poisoning through JSON keys,
 * bodies built to exhaust memory or the parser's stack, SQL metacharacters, account enumeration
 * by comparing login failures, online password guessing against one account, registration
 * floods, and fishing for secrets in the server's logs. Every such request must end in a precise
 * 4xx problem (never a 5xx, never a success it should not get), leave the database and the
 * process intact, and the real user must keep access from their own address while an attacker
 * is locked out of theirs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, GOOD_PASSWORD, json, registerAndLogin, type TestApp, uniqueEmail } from '../fixtures/test-app.js';

const PROBLEMS = 'https://portcullis.dev/problems/';
const VALIDATION_FAILED = `${PROBLEMS}validation-failed`;
const MALFORMED_REQUEST = `${PROBLEMS}malformed-request`;
const INVALID_CREDENTIALS = `${PROBLEMS}invalid-credentials`;
const RATE_LIMITED = `${PROBLEMS}rate-limited`;

let ipCounter = 0;
/** A fresh client address per use, so per-IP limits of one test never bleed into another. */
const freshIp = () => { ipCounter += 1; return `10.44.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`; };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function assertProblem(res: LightMyRequestResponse, status: number, type: string): Record<string, unknown> {
  assert.equal(res.statusCode, status, `expected ${status} ${type}, got ${res.statusCode} ${res.body.slice(0, 300)}`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = json(res);
  assert.equal(body.type, type);
  assert.equal(body.status, status);
  return body;
}

function assertRateLimited(res: LightMyRequestResponse): void {
  assertProblem(res, 429, RATE_LIMITED);
  const retryAfter = String(res.headers['retry-after']);
  assert.match(retryAfter, /^\d+$/, 'retry-after is whole seconds');
  assert.ok(Number(retryAfter) >= 1, 'retry-after is at least 1');
  assert.match(String(res.headers['ratelimit-policy']), /^"[a-z-]+";q=\d+;w=\d+$/);
  assert.match(String(res.headers.ratelimit), /^"[a-z-]+";r=0;t=\d+$/);
}

describe('hostile input on the identity endpoints', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({
      env: {
        PORTCULLIS_LOGIN_PROTECTION__MAX_CONSECUTIVE_FAILURES: '3',
        // The limiters run on real time (not the fixture's manual clock): keep the first lock short.
        PORTCULLIS_LOGIN_PROTECTION__BASE_LOCK_SECONDS: '2',
      },
    });
  });
  after(async () => { await t.close(); });

  const register = (payload: unknown, ip = freshIp()) => t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: payload as Record<string, unknown>, remoteAddress: ip });
  const login = (email: string, password: string, ip: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password }, remoteAddress: ip, headers });
  const rawPost = (url: string, payload: string, contentType = 'application/json', ip = freshIp()) =>
    t.app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType }, remoteAddress: ip });
  const userCount = async (email: string) => (await t.database.db.selectFrom('users').select('id').where('email', '=', email).execute()).length;

  async function assertNoErrorLogs(): Promise<void> {
    const errors = t.logLines.filter((line) => typeof line.level === 'number' && line.level >= 50);
    assert.deepEqual(errors, [], 'nothing was logged at error level or above');
  }

  async function assertStillServing(): Promise<void> {
    const s = await registerAndLogin(t.app, uniqueEmail('alive'), GOOD_PASSWORD, freshIp());
    const me = await t.app.inject({ url: '/v1/auth/me', headers: { authorization: `Bearer ${s.accessToken}` } });
    assert.equal(me.statusCode, 200);
  }

  it('refuses role, roles or admin fields in a registration body with a validation error naming the field, and creates no account', async () => {
    for (const extra of [{ role: 'admin' }, { roles: ['admin'] }, { admin: true }, { isAdmin: true }, { tenant: 'other' }, { mfaEnabled: true }, { id: 'chosen-id' }]) {
      const email = uniqueEmail('massassign');
      const res = await register({ email, password: GOOD_PASSWORD, ...extra });
      const body = assertProblem(res, 400, VALIDATION_FAILED);
      const field = Object.keys(extra)[0]!;
      const errors = body.errors as Array<{ path: string; message: string }>;
      assert.ok(Array.isArray(errors) && errors.some((e) => e.path === field), `errors name "${field}": ${JSON.stringify(errors)}`);
      assert.equal(await userCount(email), 0, 'no account was created');
    }
  });

  it('refuses extra privilege fields in a login body too', async () => {
    const s = await registerAndLogin(t.app, uniqueEmail(), GOOD_PASSWORD, freshIp());
    const res = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: s.email, password: s.password, roles: ['admin'] }, remoteAddress: freshIp() });
    assertProblem(res, 400, VALIDATION_FAILED);
  });

  it('refuses a body over 64 KiB with 413 payload-too-large', async () => {
    const email = uniqueEmail('big');
    const payload = JSON.stringify({ email, password: GOOD_PASSWORD, name: 'x'.repeat(70 * 1024) });
    assertProblem(await rawPost('/v1/auth/register', payload), 413, `${PROBLEMS}payload-too-large`);
    assertProblem(await rawPost('/v1/auth/login', JSON.stringify({ email, password: 'p'.repeat(70 * 1024) })), 413, `${PROBLEMS}payload-too-large`);
    assert.equal(await userCount(email), 0);
  });

  it('refuses a JSON body with a __proto__ key with 400 and pollutes nothing', async () => {
    for (const url of ['/v1/auth/register', '/v1/auth/login']) {
      const email = uniqueEmail('proto');
      const res = await rawPost(url, `{"email":"${email}","password":"${GOOD_PASSWORD}","__proto__":{"isAdmin":true,"roles":["admin"]}}`);
      assertProblem(res, 400, MALFORMED_REQUEST);
      assert.equal(await userCount(email), 0);
    }
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype is untouched');
    assert.equal(({} as Record<string, unknown>).roles, undefined);
  });

  it('refuses a JSON body with constructor.prototype with 400 and pollutes nothing', async () => {
    const email = uniqueEmail('ctor');
    const res = await rawPost('/v1/auth/register', `{"email":"${email}","password":"${GOOD_PASSWORD}","constructor":{"prototype":{"isAdmin":true}}}`);
    assertProblem(res, 400, MALFORMED_REQUEST);
    assert.equal(await userCount(email), 0);
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype is untouched');
  });

  it('answers deeply nested JSON with 4xx and keeps serving, with nothing logged as an error', async () => {
    const depthArrays = 30_000;
    const depthObjects = 10_000;
    const nestedObjects = `${'{"a":'.repeat(depthObjects)}1${'}'.repeat(depthObjects)}`;
    const bodies = [
      '['.repeat(100_000),
      `${'['.repeat(depthArrays)}${']'.repeat(depthArrays)}`,
      '{"a":'.repeat(100_000),
      nestedObjects,
      `{"email":${nestedObjects},"password":"${GOOD_PASSWORD}"}`,
      `{"email":"${uniqueEmail('deep')}","password":${'['.repeat(depthArrays)}${']'.repeat(depthArrays)}}`,
    ];
    for (const body of bodies) {
      for (const url of ['/v1/auth/register', '/v1/auth/login', '/v1/auth/refresh']) {
        const res = await rawPost(url, body);
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${url} with ${body.length} bytes of nesting -> ${res.statusCode} ${res.body.slice(0, 200)}`);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        // Over the 64 KiB limit the body is never parsed; under it, the parser copes and validation refuses.
        if (body.length > 64 * 1024) assert.equal(json(res).type, `${PROBLEMS}payload-too-large`);
        else assert.ok([VALIDATION_FAILED, MALFORMED_REQUEST].includes(String(json(res).type)), `${url}: ${res.body.slice(0, 200)}`);
      }
    }
    await assertStillServing();
    await assertNoErrorLogs();
  });

  it('refuses invalid JSON with 400 malformed-request', async () => {
    for (const body of ['{', '{"email":', '{"email":"a@b.co",}', "{'email':'a@b.co'}", '{"a":1}x', 'NaN', '\u0000']) {
      assertProblem(await rawPost('/v1/auth/login', body), 400, MALFORMED_REQUEST);
    }
  });

  it('refuses XML, multipart and form bodies with 415 unsupported-media-type', async () => {
    const email = uniqueEmail('ctype');
    const payload = JSON.stringify({ email, password: GOOD_PASSWORD });
    for (const contentType of ['application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/vnd.api+json']) {
      assertProblem(await rawPost('/v1/auth/register', payload, contentType), 415, `${PROBLEMS}unsupported-media-type`);
    }
    assert.equal(await userCount(email), 0);
  });

  it('refuses a text/plain body with 415 unsupported-media-type (a CORS-simple content type must never reach a handler)', async () => {
    const email = uniqueEmail('ctype');
    const payload = JSON.stringify({ email, password: GOOD_PASSWORD });
    for (const contentType of ['text/plain', 'text/plain; charset=utf-8']) {
      for (const url of ['/v1/auth/register', '/v1/auth/login', '/v1/auth/refresh']) {
        assertProblem(await rawPost(url, payload, contentType), 415, `${PROBLEMS}unsupported-media-type`);
      }
    }
    assert.equal(await userCount(email), 0);
  });

  it('stores and returns SQL metacharacters in email and name literally, and the users table survives', async () => {
    const email = `o'brien+${Math.random().toString(36).slice(2, 8)}@example.com`;
    const name = "Robert'); DROP TABLE users;--";
    const ip = freshIp();
    const reg = await register({ email, password: GOOD_PASSWORD, name }, ip);
    assert.equal(reg.statusCode, 201, reg.body);
    const { user } = json<{ user: { email: string; name: string } }>(reg);
    assert.equal(user.email, email);
    assert.equal(user.name, name);

    const res = await login(email, GOOD_PASSWORD, ip);
    assert.equal(res.statusCode, 200, res.body);
    const me = await t.app.inject({ url: '/v1/auth/me', headers: { authorization: `Bearer ${json<{ accessToken: string }>(res).accessToken}` } });
    assert.equal(me.statusCode, 200);
    assert.equal(json<{ user: { name: string; email: string } }>(me).user.name, name);
    assert.equal(json<{ user: { name: string; email: string } }>(me).user.email, email);

    const row = await t.database.db.selectFrom('users').select(['email', 'name']).where('email', '=', email).executeTakeFirstOrThrow();
    assert.deepEqual(row, { email, name });
    const count = await t.database.db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    assert.ok(Number(count.n) > 1, 'users still exists and holds every account');

    // Classic injection as credentials is just a failed login.
    for (const [e, p] of [["' OR '1'='1", "' OR '1'='1"], ["admin'--", 'x'], [`${email}' --`, 'x']] as const) {
      assertProblem(await login(e, p, freshIp()), 401, INVALID_CREDENTIALS);
    }
  });

  it('answers an unknown email and a wrong password with the identical status and body', async () => {
    const s = await registerAndLogin(t.app, uniqueEmail(), GOOD_PASSWORD, freshIp());
    const wrong = await login(s.email, 'definitely not the password', freshIp(), { 'x-request-id': 'enum-probe' });
    const unknown = await login(uniqueEmail('ghost'), 'definitely not the password', freshIp(), { 'x-request-id': 'enum-probe' });
    assertProblem(wrong, 401, INVALID_CREDENTIALS);
    assertProblem(unknown, 401, INVALID_CREDENTIALS);
    assert.equal(wrong.body, unknown.body);
    assert.equal(wrong.headers['content-type'], unknown.headers['content-type']);
    assert.equal(wrong.headers['www-authenticate'], unknown.headers['www-authenticate']);
  });

  it('locks one account out for the guessing IP after 3 failures, even for the right password, while the real user still logs in from elsewhere', async () => {
    const victim = await registerAndLogin(t.app, uniqueEmail('victim'), GOOD_PASSWORD, freshIp());
    const attackerIp = '198.51.100.7';
    const victimIp = '192.0.2.10';
    for (let i = 1; i <= 3; i++) {
      assertProblem(await login(victim.email, `wrong guess number ${i} here`, attackerIp), 401, INVALID_CREDENTIALS);
    }
    const blocked = await login(victim.email, GOOD_PASSWORD, attackerIp);
    assertRateLimited(blocked);
    assert.match(String(blocked.headers['ratelimit-policy']), /;q=3;/, 'the policy names the 3-failure quota');

    // Not evaded by re-casing the email or claiming another address in X-Forwarded-For (no trusted proxy).
    assertRateLimited(await login(victim.email.toUpperCase(), GOOD_PASSWORD, attackerIp));
    assertRateLimited(await login(victim.email, GOOD_PASSWORD, attackerIp, { 'x-forwarded-for': '203.0.113.99', 'x-real-ip': '203.0.113.99' }));

    // The attacker cannot lock the real user out from every address.
    const real = await login(victim.email, GOOD_PASSWORD, victimIp);
    assert.equal(real.statusCode, 200, real.body);

    const events = await t.database.db.selectFrom('audit_events').selectAll()
      .where('type', '=', 'ratelimit.blocked').where('ip', '=', attackerIp).execute();
    assert.ok(events.length >= 1, 'a ratelimit.blocked audit event exists');
    assert.equal(events[0]!.outcome, 'blocked');

    // After the lock expires the right password works again and forgets the failures.
    const retryAfter = Number(blocked.headers['retry-after']);
    t.clock.advanceMs((retryAfter + 1) * 1000);
    await sleep(retryAfter * 1000 + 300);
    const after = await login(victim.email, GOOD_PASSWORD, attackerIp);
    assert.equal(after.statusCode, 200, `the lock expired (got ${after.statusCode} ${after.body})`);
    for (let i = 1; i <= 2; i++) {
      assertProblem(await login(victim.email, `another wrong guess ${i}`, attackerIp), 401, INVALID_CREDENTIALS);
    }
    const again = await login(victim.email, GOOD_PASSWORD, attackerIp);
    assert.equal(again.statusCode, 200, 'two failures after a success do not lock: the success reset the counter');
  });

  it('locks out guesses at a non-existent account exactly like a real one (no enumeration through the lock-out)', async () => {
    const ghost = uniqueEmail('ghost');
    const real = await registerAndLogin(t.app, uniqueEmail('real'), GOOD_PASSWORD, freshIp());
    const ipA = '198.51.100.21';
    const ipB = '198.51.100.22';
    const sequence = async (email: string, ip: string) => {
      const out: Array<{ status: number; type: unknown; retryAfter: unknown }> = [];
      for (let i = 0; i < 4; i++) {
        const res = await login(email, 'wrong password for both of them', ip, { 'x-request-id': 'lock-probe' });
        out.push({ status: res.statusCode, type: json(res).type, retryAfter: res.headers['retry-after'] });
      }
      return out;
    };
    const forGhost = await sequence(ghost, ipA);
    const forReal = await sequence(real.email, ipB);
    assert.deepEqual(forGhost.map((r) => r.status), [401, 401, 401, 429]);
    assert.deepEqual(forReal, forGhost);
  });

  it('never writes the password, the refresh token or the access token to the log', async () => {
    const email = uniqueEmail('secrets');
    const password = `${GOOD_PASSWORD} with a secret suffix 7731`;
    const ip = freshIp();
    const s = await registerAndLogin(t.app, email, password, ip);
    const refreshed = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: s.refreshToken }, remoteAddress: ip });
    assert.equal(refreshed.statusCode, 200);
    const pair = json<{ accessToken: string; refreshToken: string }>(refreshed);
    // Failures that carry secrets too: a wrong password, a reused refresh token, a bad body holding the password, a refused token.
    await login(email, `${password} typo`, ip);
    await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: s.refreshToken }, remoteAddress: ip });
    await rawPost('/v1/auth/login', `{"email":"${email}","password":"${password}",}`, 'application/json', ip);
    await rawPost('/v1/auth/login', `{"email":"${email}","password":"${password}"}`, 'text/plain', ip);
    await t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${s.accessToken}x` } });

    assert.ok(t.logLines.length > 0, 'the app did log something');
    const secrets = [password, `${password} typo`, s.refreshToken, pair.refreshToken, s.accessToken, pair.accessToken, s.accessToken.split('.')[2]!, pair.accessToken.split('.')[2]!];
    for (const line of t.logLines) {
      const text = JSON.stringify(line);
      for (const secret of secrets) assert.ok(!text.includes(secret), `a log line leaks a secret: ${text.slice(0, 300)}`);
    }
  });
});

describe('registration flood from one IP', () => {
  let t: TestApp;
  before(async () => { t = await createTestApp({ env: { PORTCULLIS_LOGIN_PROTECTION__REGISTRATION__POINTS: '3' } }); });
  after(async () => { await t.close(); });

  it('refuses the 4th registration from one IP with 429, while another IP can still register', async () => {
    const ip = '198.51.100.50';
    const register = (email: string, from: string) => t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: GOOD_PASSWORD }, remoteAddress: from });
    for (let i = 0; i < 3; i++) assert.equal((await register(uniqueEmail('flood'), ip)).statusCode, 201);
    const fourth = uniqueEmail('flood');
    const res = await register(fourth, ip);
    assertRateLimited(res);
    assert.match(String(res.headers['ratelimit-policy']), /;q=3;/);
    assert.equal((await t.database.db.selectFrom('users').select('id').where('email', '=', fourth).execute()).length, 0, 'the 4th account was not created');
    const events = await t.database.db.selectFrom('audit_events').selectAll().where('type', '=', 'ratelimit.blocked').where('ip', '=', ip).execute();
    assert.ok(events.length >= 1, 'the block was audited');
    assert.equal((await register(uniqueEmail('other'), '198.51.100.51')).statusCode, 201);
  });
});

describe('deeply nested JSON when an operator raised the body limit', () => {
  let t: TestApp;
  before(async () => { t = await createTestApp({ env: { PORTCULLIS_HTTP__BODY_LIMIT_BYTES: String(4 * 1024 * 1024) } }); });
  after(async () => { await t.close(); });

  it('refuses 100,000 levels of nesting with 400 and keeps serving, with nothing logged as an error', async () => {
    const depth = 100_000;
    const bodies = [
      '['.repeat(depth),
      `${'['.repeat(depth)}${']'.repeat(depth)}`,
      '{"a":'.repeat(depth),
      `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
      // Forces the prototype-poisoning scan to walk the whole tree.
      `${'{"a":'.repeat(depth)}{"constructor":{"prototype":{"isAdmin":true}}}${'}'.repeat(depth)}`,
      `{"email":${'['.repeat(depth)}${']'.repeat(depth)},"password":"x","__proto__":{}}`,
    ];
    for (const body of bodies) {
      for (const url of ['/v1/auth/register', '/v1/auth/login']) {
        const res = await t.app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': 'application/json' }, remoteAddress: '10.45.0.1' });
        assert.equal(res.statusCode, 400, `${url} with ${body.length} bytes -> ${res.statusCode} ${res.body.slice(0, 200)}`);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        assert.ok([VALIDATION_FAILED, MALFORMED_REQUEST].includes(String(json(res).type)));
      }
    }
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype is untouched');
    const s = await registerAndLogin(t.app, uniqueEmail('deep'), GOOD_PASSWORD, '10.45.0.2');
    assert.equal((await t.app.inject({ url: '/v1/auth/me', headers: { authorization: `Bearer ${s.accessToken}` } })).statusCode, 200);
    assert.deepEqual(t.logLines.filter((line) => typeof line.level === 'number' && line.level >= 50), []);
  });
});
