/*
 * PostgreSQL goes away under a running `portcullis serve` (a TCP proxy we control sits between
 * them), then comes back. Chosen behaviour: every request that needs the database answers 503
 * problem+json with Retry-After within the configured timeouts, requests that do not (whoami with
 * a verified token, JWKS, /healthz) keep working, /readyz names the database, the process stays
 * up, and it recovers by itself. A refused write changes nothing: neither the change nor its
 * audit event exists afterwards, and every acknowledged write is in the audit chain.
 * Runs when DATABASE_URL is set (required under PORTCULLIS_REQUIRE_SERVICES=1).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { migrateToLatest, openDatabase } from '../../src/platform/db/database.js';
import { postgresUrl } from '../fixtures/database.js';
import { runCli, startServer, type ServerProcess } from '../fixtures/server-process.js';
import { startTcpProxy, type TcpProxy } from '../fixtures/tcp-proxy.js';
import { GOOD_PASSWORD } from '../fixtures/test-app.js';

const url = postgresUrl();
const CONNECT_TIMEOUT_MS = 1_000;
const STATEMENT_TIMEOUT_MS = 2_000;

interface Reply { status: number; headers: Headers; body: Record<string, unknown>; ms: number }

/** One HTTP call to the server, with its own request id (it lands in the audit row). */
async function call(server: ServerProcess, path: string, options: { method?: string; body?: unknown; token?: string; requestId?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.requestId) headers['x-request-id'] = options.requestId;
  const started = performance.now();
  const res = await fetch(`${server.url}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'), headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) as Record<string, unknown> : {}, ms: performance.now() - started };
}

/** Asserts the documented outage answer: 503 problem+json, type service-unavailable, Retry-After 5, in bounded time. */
function assertUnavailable(reply: Reply, what: string, withinMs: number): void {
  assert.equal(reply.status, 503, `${what}: ${JSON.stringify(reply.body)}`);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/problem\+json/, what);
  assert.equal(reply.body.type, 'https://portcullis.dev/problems/service-unavailable', what);
  assert.equal(reply.headers.get('retry-after'), '5', what);
  assert.ok(reply.ms < withinMs, `${what} took ${reply.ms.toFixed(0)} ms (bound ${withinMs} ms)`);
}

/** Polls `probe` until it returns true; returns the elapsed milliseconds or fails after `timeoutMs`. */
async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - started;
    assert.ok(performance.now() - started < timeoutMs, `${what} not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('PostgreSQL outage under a running server', { skip: url ? false : 'DATABASE_URL is not set' }, () => {
  const schema = `e2e_pgout_${randomBytes(5).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-pg-outage-'));
  let proxy: TcpProxy;
  let server: ServerProcess | undefined;
  let directUrl: string;

  before(async () => {
    const admin = await openDatabase({ databaseUrl: url });
    try {
      await sql`create schema ${sql.id(schema)}`.execute(admin.db);
    } finally {
      await admin.close();
    }
    // Migrated here with the schema named (see the audit-verify e2e test for why not by `migrate`).
    const setup = await openDatabase({ databaseUrl: url, schema });
    try {
      await migrateToLatest(setup.db, schema);
    } finally {
      await setup.close();
    }
    const target = new URL(url!);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    // node-postgres passes `options` to the server as startup options: the schema rides along.
    target.searchParams.set('options', `-c search_path=${schema}`);
    directUrl = target.toString();
    target.host = `127.0.0.1:${proxy.port}`;
    server = await startServer({
      DATABASE_URL: target.toString(), PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_POLICY__WATCH: 'false',
      PORTCULLIS_DATABASE__CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS), PORTCULLIS_DATABASE__STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    });
  });

  after(async () => {
    await server?.stop();
    await proxy?.close();
    rmSync(dataDir, { recursive: true, force: true });
    const admin = await openDatabase({ databaseUrl: url });
    try {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.db);
    } finally {
      await admin.close();
    }
  });

  it('answers 503 + Retry-After for database work, keeps token-only routes up, recovers without restart, and loses no acknowledged audit event', { timeout: 120_000 }, async (t) => {
    const s = server!;
    const run = randomBytes(3).toString('hex');
    const acknowledged: string[] = [];
    const refused: string[] = [];
    const email = `pg-outage-${run}@example.com`;

    const registered = await call(s, '/v1/auth/register', { body: { email, password: GOOD_PASSWORD }, requestId: `ack-register-${run}` });
    assert.equal(registered.status, 201);
    acknowledged.push(`ack-register-${run}`);
    const login = await call(s, '/v1/auth/login', { body: { email, password: GOOD_PASSWORD }, requestId: `ack-login-${run}` });
    assert.equal(login.status, 200);
    acknowledged.push(`ack-login-${run}`);
    const token = login.body.accessToken as string;
    assert.equal((await call(s, '/v1/auth/whoami', { token })).status, 200);

    for (const mode of ['refuse', 'blackhole'] as const) {
      await proxy.cut(mode);
      // Refused connections fail at once; a black hole costs the connect timeout (+ argon2 for register).
      const bound = mode === 'refuse' ? 1_000 : CONNECT_TIMEOUT_MS + 1_500;

      const ready = await call(s, '/readyz');
      assert.equal(ready.status, 503, `${mode}: /readyz`);
      assert.deepEqual(ready.body.failed, ['database']);

      const loginDown = await call(s, '/v1/auth/login', { body: { email, password: GOOD_PASSWORD }, requestId: `refused-login-${mode}-${run}` });
      assertUnavailable(loginDown, `${mode}: login`, bound);
      refused.push(`refused-login-${mode}-${run}`);
      const registerDown = await call(s, '/v1/auth/register', { body: { email: `never-${mode}-${run}@example.com`, password: GOOD_PASSWORD }, requestId: `refused-register-${mode}-${run}` });
      assertUnavailable(registerDown, `${mode}: register`, bound);
      refused.push(`refused-register-${mode}-${run}`);
      const logoutDown = await call(s, '/v1/auth/logout', { method: 'POST', token, requestId: `refused-logout-${mode}-${run}` });
      assertUnavailable(logoutDown, `${mode}: logout`, bound);
      refused.push(`refused-logout-${mode}-${run}`);

      // No database needed: the verified token (cached, key ring in memory), the JWKS, liveness.
      // The refused logout changed nothing, so the token is still good.
      assert.equal((await call(s, '/v1/auth/whoami', { token })).status, 200, `${mode}: whoami`);
      assert.equal((await call(s, '/.well-known/jwks.json')).status, 200, `${mode}: jwks`);
      assert.equal((await call(s, '/healthz')).status, 200, `${mode}: healthz`);
      assert.equal(s.child.exitCode, null, `${mode}: the process is still running`);

      await proxy.restore();
      let attempt = 0;
      const recoveredMs = await waitFor(`${mode}: login succeeds again`, 5_000, async () => {
        const requestId = `relogin-${mode}-${run}-${++attempt}`;
        const again = await call(s, '/v1/auth/login', { body: { email, password: GOOD_PASSWORD }, requestId });
        assert.ok(again.status === 200 || again.status === 503, `${mode}: while recovering: ${again.status} ${JSON.stringify(again.body)}`);
        // A 503 while the pool reconnects is one more refused request: it must leave no trace either.
        (again.status === 200 ? acknowledged : refused).push(requestId);
        return again.status === 200;
      });
      t.diagnostic(`${mode}: login 503 in ${loginDown.ms.toFixed(0)} ms, register 503 in ${registerDown.ms.toFixed(0)} ms; login succeeded again ${recoveredMs.toFixed(0)} ms after restore`);
      assert.equal((await call(s, '/readyz')).status, 200, `${mode}: ready again`);
      const late = await call(s, '/v1/auth/register', { body: { email: `after-${mode}-${run}@example.com`, password: GOOD_PASSWORD }, requestId: `ack-register-${mode}-${run}` });
      assert.equal(late.status, 201);
      acknowledged.push(`ack-register-${mode}-${run}`);
    }

    assert.equal(await s.stop(), 0, s.output());
    assert.doesNotMatch(s.output(), /unhandled|uncaught/i);

    const verify = await runCli(['audit', 'verify'], { DATABASE_URL: directUrl, PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_LOG_LEVEL: 'warn' });
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal((JSON.parse(verify.stdout) as { ok: boolean }).ok, true);

    const db = await openDatabase({ databaseUrl: url, schema });
    try {
      const rows = await db.db.selectFrom('audit_events').select(['request_id', 'type']).execute();
      const byRequest = new Map<string, string[]>();
      for (const row of rows) if (row.request_id) byRequest.set(row.request_id, [...(byRequest.get(row.request_id) ?? []), row.type]);
      for (const id of acknowledged) assert.ok(byRequest.has(id), `acknowledged ${id} has its audit event`);
      for (const id of new Set(refused)) assert.equal(byRequest.get(id), undefined, `refused ${id} left no audit event`);
      const users = await db.db.selectFrom('users').select('email').where('email', 'like', `never-%-${run}@example.com`).execute();
      assert.deepEqual(users, [], 'no account from a refused registration');
      const sessions = await db.db.selectFrom('sessions').select('id').where('revoked_at', 'is not', null).execute();
      assert.deepEqual(sessions, [], 'no session revoked by a refused logout');
    } finally {
      await db.close();
    }
  });
});
