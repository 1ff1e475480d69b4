/*
 * Redis goes away under three running `portcullis serve` instances sharing one PostgreSQL schema
 * and one Redis of our own (killed and restarted on the same port; the shared test Redis is never
 * touched). Chosen behaviour: /readyz names redis; rate limits keep counting per instance in the
 * insurance limiter (A, B: fail open) or refuse with 503 + Retry-After (C: redis.failClosed);
 * revocation checks read the database while the mirror may be stale, so a logout on A is refused
 * on B although A could not publish it; nothing else answers 5xx. When Redis returns, every
 * instance is ready again within 5 s, the revocation made during the outage is back in Redis
 * (re-published from the database) and pub/sub carries a new logout to B within 100 ms.
 * Runs when DATABASE_URL is set and redis-server is available (required under PORTCULLIS_REQUIRE_SERVICES=1).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import { migrateToLatest, openDatabase } from '../../src/platform/db/database.js';
import { postgresUrl } from '../fixtures/database.js';
import { connectRedisForTest, killProcess, ownRedisServerSkip, startRedisServer } from '../fixtures/redis.js';
import { freePort, startServer, type ServerProcess } from '../fixtures/server-process.js';
import { GOOD_PASSWORD } from '../fixtures/test-app.js';

const url = postgresUrl();
const redisSkip = ownRedisServerSkip();
const MAX_FAILURES = 3;

interface Reply { status: number; headers: Headers; body: Record<string, unknown>; text: string }

/** Every status answered while Redis is down, by instance, for the "no 5xx" claim. */
const outageStatuses: Array<{ instance: string; path: string; status: number }> = [];
let recordOutage = false;

async function call(server: ServerProcess, path: string, options: { method?: string; body?: unknown; token?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(`${server.url}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'), headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  if (recordOutage) outageStatuses.push({ instance: server.url, path, status: res.status });
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch { /* /metrics is text */ }
  return { status: res.status, headers: res.headers, body, text };
}

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>, pauseMs = 50): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - started;
    assert.ok(performance.now() - started < timeoutMs, `${what} not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

/** A counter or gauge sample from the Prometheus text, 0 when absent. */
function sample(metricsText: string, name: string, labels: string): number {
  const line = metricsText.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** The `sid` claim of an access token (its payload is plain base64url JSON). */
function sessionIdOf(accessToken: string): string {
  return (JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string }).sid;
}

describe('Redis outage under three running instances', { skip: !url ? 'DATABASE_URL is not set' : redisSkip }, () => {
  const schema = `e2e_redisout_${randomBytes(5).toString('hex')}`;
  const keyPrefix = `portcullis-outage-${randomBytes(4).toString('hex')}:`;
  const dirs: string[] = [];
  let redisPort: number;
  let redisServer: ChildProcess | undefined;
  let admin: Redis | undefined;
  let a: ServerProcess;
  let b: ServerProcess;
  let c: ServerProcess;
  const servers: ServerProcess[] = [];

  before(async () => {
    const adminDb = await openDatabase({ databaseUrl: url });
    try {
      await sql`create schema ${sql.id(schema)}`.execute(adminDb.db);
    } finally {
      await adminDb.close();
    }
    const setup = await openDatabase({ databaseUrl: url, schema });
    try {
      await migrateToLatest(setup.db, schema);
    } finally {
      await setup.close();
    }
    redisPort = await freePort();
    redisServer = await startRedisServer(redisPort);
    const databaseUrl = new URL(url!);
    databaseUrl.searchParams.set('options', `-c search_path=${schema}`);
    const env = (extra: Record<string, string> = {}) => {
      const dir = mkdtempSync(join(tmpdir(), 'portcullis-redis-outage-'));
      dirs.push(dir);
      return {
        DATABASE_URL: databaseUrl.toString(), REDIS_URL: `redis://127.0.0.1:${redisPort}`, PORTCULLIS_REDIS__KEY_PREFIX: keyPrefix,
        // One deployment: the same master key (signing keys are sealed with it) and the same issuer.
        PORTCULLIS_MASTER_KEY: masterKey, PORTCULLIS_ISSUER: 'http://portcullis.test', PORTCULLIS_DATA_DIR: dir,
        PORTCULLIS_POLICY__WATCH: 'false', PORTCULLIS_LOGIN_PROTECTION__MAX_CONSECUTIVE_FAILURES: String(MAX_FAILURES), ...extra,
      };
    };
    const masterKey = randomBytes(32).toString('base64');
    // A first, so it creates the signing key the others load.
    a = await startServer(env());
    servers.push(a);
    [b, c] = await Promise.all([startServer(env()), startServer(env({ PORTCULLIS_REDIS__FAIL_CLOSED: 'true' }))]);
    servers.push(b, c);
    admin = connectRedisForTest(`redis://127.0.0.1:${redisPort}`, '');
  });

  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    admin?.disconnect();
    await killProcess(redisServer);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    const adminDb = await openDatabase({ databaseUrl: url });
    try {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(adminDb.db);
    } finally {
      await adminDb.close();
    }
  });

  it('degrades as documented while Redis is down, and is fully back within 5 s of its return', { timeout: 120_000 }, async (t) => {
    const run = randomBytes(3).toString('hex');
    const register = async (server: ServerProcess, email: string) => {
      const res = await call(server, '/v1/auth/register', { body: { email, password: GOOD_PASSWORD } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    };
    const login = async (server: ServerProcess, email: string, password = GOOD_PASSWORD) =>
      call(server, '/v1/auth/login', { body: { email, password } });
    const tokenOf = async (server: ServerProcess, email: string) => {
      const res = await login(server, email);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as { accessToken: string; refreshToken: string };
    };

    for (const server of servers) assert.equal((await call(server, '/readyz')).status, 200);
    const alice = `alice-${run}@example.com`;
    const bob = `bob-${run}@example.com`;
    await register(a, alice);
    await register(a, bob);
    const outageSession = await tokenOf(a, alice);
    const closedSession = await tokenOf(c, alice);
    // Cached as valid on B before the outage: only a revocation check can refuse it later.
    assert.equal((await call(b, '/v1/auth/whoami', { token: outageSession.accessToken })).status, 200);

    // --- Redis dies.
    await killProcess(redisServer);
    redisServer = undefined;
    recordOutage = true;
    for (const server of servers) {
      await waitFor('/readyz reports redis', 3_000, async () => {
        const ready = await call(server, '/readyz');
        return ready.status === 503 && JSON.stringify(ready.body.failed) === '["redis"]' && (ready.body.checks as Record<string, string>).database === 'ok';
      });
    }

    // Logout on A: committed to the database, not publishable; still a 204 for the user.
    assert.equal((await call(a, '/v1/auth/logout', { method: 'POST', token: outageSession.accessToken })).status, 204);
    // B never heard of it through Redis, and answers from the database: refused at once.
    assert.equal((await call(b, '/v1/auth/whoami', { token: outageSession.accessToken })).status, 401);
    assert.equal((await call(a, '/v1/auth/whoami', { token: outageSession.accessToken })).status, 401);

    // Login protection keeps counting in A's insurance limiter: the account lock still trips there...
    for (let i = 0; i < MAX_FAILURES; i++) assert.equal((await login(a, bob, 'not the password at all')).status, 401);
    const locked = await login(a, bob);
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    // ...but per instance: B has its own count (the documented cost of failing open).
    assert.equal((await login(b, bob)).status, 200);

    // Everything else keeps working on the fail-open instances.
    await register(b, `carol-${run}@example.com`);
    const fresh = await tokenOf(b, alice);
    assert.equal((await call(a, '/v1/auth/whoami', { token: fresh.accessToken })).status, 200);
    assert.equal((await call(b, '/v1/auth/refresh', { body: { refreshToken: fresh.refreshToken } })).status, 200);

    // C fails closed: rate-limited routes answer 503 + Retry-After.
    for (const res of [await login(c, alice), await call(c, '/v1/auth/whoami', { token: closedSession.accessToken })]) {
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal(res.body.type, 'https://portcullis.dev/problems/service-unavailable');
      assert.equal(res.headers.get('retry-after'), '5');
    }

    const metricsA = (await call(a, '/metrics')).text;
    const metricsB = (await call(b, '/metrics')).text;
    assert.ok(sample(metricsA, 'portcullis_redis_fallback_total', 'component="revocation_publish"') >= 1, 'A counted the unpublished revocation');
    assert.ok(sample(metricsA, 'portcullis_redis_fallback_total', 'component="ratelimit"') >= 1, 'A counted insurance-limiter answers');
    assert.ok(sample(metricsB, 'portcullis_redis_fallback_total', 'component="revocation_check"') >= 1, 'B counted database revocation checks');
    assert.equal(sample(metricsB, 'portcullis_redis_up', 'connection="command"'), 0);

    recordOutage = false;
    const serverErrors = outageStatuses.filter((s) => s.status >= 500 && s.instance !== c.url && !(s.path === '/readyz' && s.status === 503));
    assert.deepEqual(serverErrors, [], 'no 5xx from the fail-open instances during the outage');
    for (const server of servers) assert.equal(server.child.exitCode, null, 'still running');

    // --- Redis returns, empty (no persistence), on the same port.
    redisServer = await startRedisServer(redisPort);
    const recovery = await Promise.all(servers.map((server) => waitFor('/readyz 200 after Redis returned', 5_000, async () => (await call(server, '/readyz')).status === 200, 25)));
    t.diagnostic(`instances ready again ${recovery.map((ms) => ms.toFixed(0)).join(', ')} ms after redis-server was up`);

    // The revocation A could not publish is back in Redis, re-published from the database...
    const member = `sid:${sessionIdOf(outageSession.accessToken)}`;
    assert.notEqual(await admin!.zscore(`${keyPrefix}revocations:members`, member), null);
    // ...and B refuses it from its mirror again, without asking the database.
    const checksBefore = sample((await call(b, '/metrics')).text, 'portcullis_redis_fallback_total', 'component="revocation_check"');
    assert.equal((await call(b, '/v1/auth/whoami', { token: outageSession.accessToken })).status, 401);
    assert.equal((await call(c, '/v1/auth/whoami', { token: closedSession.accessToken })).status, 200, 'C serves again');

    // Pub/sub is back: a logout on A is refused on B within 100 ms.
    const after = await tokenOf(a, alice);
    assert.equal((await call(b, '/v1/auth/whoami', { token: after.accessToken })).status, 200);
    assert.equal((await call(a, '/v1/auth/logout', { method: 'POST', token: after.accessToken })).status, 204);
    const propagationMs = await waitFor('logout on A refused on B', 100, async () => (await call(b, '/v1/auth/whoami', { token: after.accessToken })).status === 401, 5);
    const checksAfter = sample((await call(b, '/metrics')).text, 'portcullis_redis_fallback_total', 'component="revocation_check"');
    assert.equal(checksAfter, checksBefore, 'B answered from its mirror, not the database');
    t.diagnostic(`logout on A refused on B after ${propagationMs.toFixed(0)} ms`);
    assert.equal(sample((await call(b, '/metrics')).text, 'portcullis_redis_up', 'connection="command"'), 1);

    for (const server of servers) assert.doesNotMatch(server.output(), /unhandled|uncaught/i);
  });
});
