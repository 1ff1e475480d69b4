/*
 * Threat: responses themselves leak or enable attacks. Error bodies can disclose internals (SQL,
 * stack traces, file paths) to someone probing for weaknesses; missing security headers let a
 * browser sniff, frame or downgrade API responses; a permissive CORS policy lets any web page
 * read authenticated answers; and an attacker-chosen request id is reflected into headers, logs
 * and audit rows, where a newline or markup could forge log lines or inject script into an admin
 * UI. Every response must carry the hardening headers, errors must be terse RFC 9457 problems,
 * CORS must be off unless origins are configured and then exact, and request ids must be sane.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { createTestApp, GOOD_PASSWORD, json, registerAndLogin, type TestApp, uniqueEmail } from '../fixtures/test-app.js';

const PROBLEMS = 'https://portcullis.dev/problems/';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function assertSecurityHeaders(res: LightMyRequestResponse, label: string): void {
  const h = res.headers;
  assert.match(String(h['strict-transport-security']), /max-age=31536000/, `${label}: HSTS`);
  assert.match(String(h['strict-transport-security']), /includeSubDomains/, `${label}: HSTS covers subdomains`);
  assert.equal(h['x-content-type-options'], 'nosniff', `${label}: nosniff`);
  const csp = String(h['content-security-policy']);
  assert.match(csp, /default-src 'none'/, `${label}: CSP default-src 'none' (got ${csp})`);
  assert.match(csp, /frame-ancestors 'none'/, `${label}: CSP frame-ancestors 'none'`);
  // The same refusal for browsers without CSP frame-ancestors; SAMEORIGIN would let our own origin frame us.
  assert.equal(h['x-frame-options'], 'DENY', `${label}: X-Frame-Options DENY, as frame-ancestors 'none'`);
  assert.equal(h['referrer-policy'], 'no-referrer', `${label}: referrer-policy`);
  assert.equal(h['x-powered-by'], undefined, `${label}: no x-powered-by`);
  assert.ok(h['x-request-id'], `${label}: x-request-id`);
}

function assertNoCors(res: LightMyRequestResponse, label: string): void {
  assert.equal(res.headers['access-control-allow-origin'], undefined, `${label}: no access-control-allow-origin`);
  assert.equal(res.headers['access-control-allow-credentials'], undefined, `${label}: no access-control-allow-credentials`);
}

describe('response hygiene', () => {
  let t: TestApp;
  before(async () => { t = await createTestApp(); });
  after(async () => { await t.close(); });

  it('answers an unknown route with a terse 404 problem+json', async () => {
    for (const [method, url] of [['GET', '/nope'], ['POST', '/v1/admin/../../etc/passwd'], ['GET', '/v1/auth/me%00'], ['DELETE', '/v1/auth/whoami'], ['GET', `/${'x'.repeat(2000)}`]] as const) {
      const res = await t.app.inject({ method, url });
      assert.equal(res.statusCode, 404, `${method} ${url.slice(0, 40)}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      const body = json(res);
      assert.deepEqual(Object.keys(body).sort(), ['requestId', 'status', 'title', 'type']);
      assert.equal(body.type, `${PROBLEMS}not-found`);
      assert.equal(body.status, 404);
      assert.equal(body.requestId, res.headers['x-request-id']);
      assert.ok(!res.body.includes('passwd') && !res.body.includes('xxxxxxxx'), 'the path is not reflected');
      assertSecurityHeaders(res, `${method} ${url.slice(0, 40)}`);
    }
  });

  it('sends the hardening headers on successes, refusals and errors of the API', async () => {
    const s = await registerAndLogin(t.app, uniqueEmail(), GOOD_PASSWORD, '10.60.0.1');
    const responses: Array<[string, LightMyRequestResponse]> = [
      ['GET /healthz', await t.app.inject({ url: '/healthz' })],
      ['GET /v1/auth/whoami 200', await t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${s.accessToken}` } })],
      ['GET /v1/auth/whoami 401', await t.app.inject({ url: '/v1/auth/whoami' })],
      ['POST /v1/auth/login 401', await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: s.email, password: 'wrong password here!' }, remoteAddress: '10.60.0.2' })],
      ['POST /v1/auth/register 400', await t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { roles: ['admin'] } })],
      ['GET /.well-known/jwks.json', await t.app.inject({ url: '/.well-known/jwks.json' })],
    ];
    for (const [label, res] of responses) assertSecurityHeaders(res, label);
  });

  it('marks token responses as not cacheable', async () => {
    const email = uniqueEmail();
    await t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: GOOD_PASSWORD }, remoteAddress: '10.60.0.3' });
    const login = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: GOOD_PASSWORD }, remoteAddress: '10.60.0.3' });
    assert.equal(login.statusCode, 200);
    assert.equal(login.headers['cache-control'], 'no-store');
    const refresh = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: json<{ refreshToken: string }>(login).refreshToken } });
    assert.equal(refresh.statusCode, 200);
    assert.equal(refresh.headers['cache-control'], 'no-store');
  });

  it('sends no CORS headers when no origins are configured, whatever the Origin', async () => {
    const s = await registerAndLogin(t.app, uniqueEmail(), GOOD_PASSWORD, '10.60.0.4');
    for (const origin of ['https://evil.example', 'null', 'http://localhost']) {
      assertNoCors(await t.app.inject({ url: '/healthz', headers: { origin } }), `GET ${origin}`);
      assertNoCors(await t.app.inject({ url: '/v1/auth/whoami', headers: { origin, authorization: `Bearer ${s.accessToken}` } }), `whoami ${origin}`);
      const preflight = await t.app.inject({
        method: 'OPTIONS', url: '/v1/auth/login', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
      });
      assertNoCors(preflight, `preflight ${origin}`);
      assert.equal(preflight.headers['access-control-allow-methods'], undefined);
      assert.equal(preflight.headers['access-control-allow-headers'], undefined);
    }
  });

  it('echoes a sane incoming x-request-id in the header and the problem body', async () => {
    for (const id of ['abc-123', 'req_01J9Z.x:y', 'A'.repeat(128)]) {
      const res = await t.app.inject({ url: '/v1/auth/whoami', headers: { 'x-request-id': id } });
      assert.equal(res.headers['x-request-id'], id);
      assert.equal(json(res).requestId, id);
    }
  });

  it('replaces an insane x-request-id with a generated one, everywhere it would land', async () => {
    const insane = ['a b\n<script>', '<script>alert(1)</script>', 'x'.repeat(300), 'A'.repeat(129), 'id\r\nSet-Cookie: a=b', 'ümlaut', '../../etc', '', ' '];
    for (const id of insane) {
      const res = await t.app.inject({ url: '/v1/auth/whoami', headers: { 'x-request-id': id } });
      const echoed = String(res.headers['x-request-id']);
      assert.notEqual(echoed, id, `${JSON.stringify(id.slice(0, 30))} is not echoed`);
      assert.match(echoed, UUID, 'a generated UUID takes its place');
      assert.equal(json(res).requestId, echoed);
      assert.equal(res.headers['set-cookie'], undefined);
      assert.ok(!res.body.includes('<script>'));
    }
    // Nor does it reach the audit log.
    const email = uniqueEmail();
    await t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: GOOD_PASSWORD }, headers: { 'x-request-id': '<img src=x onerror=alert(1)>' }, remoteAddress: '10.60.0.5' });
    const rows = await t.database.db.selectFrom('audit_events').select(['request_id']).where('type', '=', 'user.registered').execute();
    assert.ok(rows.length > 0);
    for (const row of rows) assert.ok(row.request_id === null || /^[A-Za-z0-9._:-]{1,128}$/.test(row.request_id), `audit request_id ${row.request_id}`);
    for (const line of t.logLines) assert.ok(!JSON.stringify(line).includes('<img'), 'no insane id in the log');
  });
});

describe('CORS with a configured origin', () => {
  let t: TestApp;
  const allowed = 'https://app.example.com';
  before(async () => { t = await createTestApp({ env: { PORTCULLIS_HTTP__CORS_ORIGINS: allowed } }); });
  after(async () => { await t.close(); });

  it('grants the configured origin, without credentials, and exposes the request id', async () => {
    const res = await t.app.inject({ url: '/healthz', headers: { origin: allowed } });
    assert.equal(res.headers['access-control-allow-origin'], allowed);
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
    assert.match(String(res.headers.vary), /origin/i, 'Vary: Origin, so caches never serve one origin\'s grant to another');
    assert.match(String(res.headers['access-control-expose-headers']), /x-request-id/);
    const preflight = await t.app.inject({ method: 'OPTIONS', url: '/v1/auth/login', headers: { origin: allowed, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    assert.ok(preflight.statusCode === 204 || preflight.statusCode === 200, `preflight ${preflight.statusCode}`);
    assert.equal(preflight.headers['access-control-allow-origin'], allowed);
  });

  it('grants no other origin, including look-alikes, null and a scheme downgrade', async () => {
    for (const origin of ['https://evil.example', 'https://app.example.com.evil.net', 'https://evil-app.example.com', 'http://app.example.com', 'https://APP.example.com.evil', 'null', `${allowed}:8443`]) {
      const res = await t.app.inject({ url: '/healthz', headers: { origin } });
      assertNoCors(res, origin);
      const preflight = await t.app.inject({ method: 'OPTIONS', url: '/v1/auth/login', headers: { origin, 'access-control-request-method': 'POST' } });
      assertNoCors(preflight, `preflight ${origin}`);
    }
  });
});

describe('500s are generic', () => {
  let t: TestApp;
  let accessToken: string;
  before(async () => {
    // createTestApp logs through the production logger options, redaction included.
    t = await createTestApp();
    const s = await registerAndLogin(t.app, uniqueEmail(), GOOD_PASSWORD, '10.61.0.1');
    accessToken = s.accessToken;
    // Break the database underneath the app, so the next reads fail with a driver error full of internals.
    await sql`alter table users rename to users_gone_for_this_test`.execute(t.database.db);
  });
  after(async () => { await t.close(); });

  it('answers an internal failure with a bare 500 problem: no detail, no SQL, no stack, and logs it for operators', async () => {
    const probes: Array<[string, () => Promise<LightMyRequestResponse>]> = [
      ['me', () => t.app.inject({ url: '/v1/auth/me', headers: { authorization: `Bearer ${accessToken}`, 'x-request-id': 'boom-me' } })],
      ['login', () => t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'a@example.com', password: GOOD_PASSWORD }, headers: { 'x-request-id': 'boom-login' }, remoteAddress: '10.61.0.2' })],
      ['register', () => t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email: uniqueEmail('boom'), password: GOOD_PASSWORD }, headers: { 'x-request-id': 'boom-register' }, remoteAddress: '10.61.0.3' })],
    ];
    for (const [label, probe] of probes) {
      const res = await probe();
      assert.equal(res.statusCode, 500, `${label}: ${res.body}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      const body = json(res);
      assert.deepEqual(Object.keys(body).sort(), ['requestId', 'status', 'title', 'type'], `${label}: only the four members`);
      assert.equal(body.type, `${PROBLEMS}internal`);
      assert.equal(body.title, 'Internal error');
      for (const leak of ['users', 'relation', 'select', 'SELECT', 'insert', 'stack', 'at ', '/work/', 'node_modules', 'pglite', 'Error']) {
        assert.ok(!res.body.includes(leak), `${label}: the body does not mention ${JSON.stringify(leak)}: ${res.body}`);
      }
      assertSecurityHeaders(res, label);
      const logged = t.logLines.find((line) => line.requestId === body.requestId && typeof line.level === 'number' && line.level >= 50);
      assert.ok(logged, `${label}: the failure is logged at error level with its request id`);
      assert.ok(logged.err, `${label}: with the error for operators`);
    }
  });

  it('keeps the password hash (a SQL parameter of the failed insert) out of the error log', async () => {
    const email = uniqueEmail('hashleak');
    const res = await t.app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password: GOOD_PASSWORD }, headers: { 'x-request-id': 'boom-hash' }, remoteAddress: '10.61.0.4' });
    assert.equal(res.statusCode, 500);
    const logged = t.logLines.filter((line) => line.requestId === 'boom-hash');
    assert.ok(logged.length > 0);
    for (const line of logged) {
      const text = JSON.stringify(line);
      assert.ok(!text.includes('$argon2'), `the argon2 hash of the new account is not logged: ${text.slice(text.indexOf('params'), text.indexOf('params') + 300)}`);
      assert.ok(!text.includes(GOOD_PASSWORD), 'nor the password');
    }
  });
});
