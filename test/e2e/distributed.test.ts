/*
 * Distributed mode with real processes: two `portcullis serve` instances, as a load balancer
 * would spread traffic over them, sharing this machine's PostgreSQL (one fresh schema) and Redis
 * (one fresh key prefix). What one instance learns (a failed login, a logout, a new signing key)
 * must bind the other; nothing a client was acknowledged may go missing from the audit log.
 *
 * Threat: an attacker spreads password guesses (or replays a logged-out token) over the
 * instances behind a load balancer, hoping each keeps its own count or its own revocation list.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { postgresUrl } from '../fixtures/database.js';
import { redisUrl, servicesRequired } from '../fixtures/redis.js';
import { createSharedServices, runCli, type ServerProcess, type SharedServices, startServer } from '../fixtures/server-process.js';

const PASSWORD = 'violet kettle drums at midnight';
const MAX_FAILURES = 4;
/** Registrations (each followed by a login on the other instance) in the load test. */
const ACCOUNTS = 1_000;
const IN_FLIGHT = 50;

const databaseUrl = postgresUrl();

if ((!databaseUrl || !redisUrl) && servicesRequired) {
  describe('distributed mode with real processes', () => {
    it('runs on PostgreSQL and Redis: PORTCULLIS_REQUIRE_SERVICES=1 forbids skipping it', () => {
      throw new Error('PORTCULLIS_REQUIRE_SERVICES=1 but DATABASE_URL or REDIS_URL is not set');
    });
  });
}

interface Reply { status: number; body: Record<string, unknown> }

async function call(base: string, path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body), signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

let emailCounter = 0;
function uniqueEmail(prefix: string): string {
  emailCounter += 1;
  return `${prefix}-${emailCounter}-${Date.now().toString(36)}@example.com`;
}

async function registerAndLogin(registerOn: string, loginOn: string, email = uniqueEmail('user')): Promise<{ email: string; accessToken: string }> {
  const reg = await call(registerOn, '/v1/auth/register', { body: { email, password: PASSWORD } });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const login = await call(loginOn, '/v1/auth/login', { body: { email, password: PASSWORD } });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  return { email, accessToken: login.body.accessToken as string };
}

function kidOf(jwt: string): string {
  return (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
}

async function jwks(base: string): Promise<{ keys: Array<{ kid: string }> }> {
  const res = await call(base, '/.well-known/jwks.json');
  assert.equal(res.status, 200);
  return res.body as unknown as { keys: Array<{ kid: string }> };
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function inPool<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  }));
}

describe('two serve processes sharing PostgreSQL and Redis', { skip: databaseUrl && redisUrl ? false : 'DATABASE_URL or REDIS_URL is not set' }, () => {
  let services: SharedServices;
  let a: ServerProcess;
  let b: ServerProcess;

  before(async () => {
    services = await createSharedServices(databaseUrl!, redisUrl!);
    const env = {
      ...services.env,
      PORTCULLIS_LOGIN_PROTECTION__MAX_CONSECUTIVE_FAILURES: String(MAX_FAILURES),
      // Every request comes from 127.0.0.1: the per-IP registration cap (10 an hour) would stop the load test.
      PORTCULLIS_LOGIN_PROTECTION__REGISTRATION__POINTS: '100000',
      PORTCULLIS_TOKENS__KEY_REFRESH_SECONDS: '1',
      // Both issue and accept the same tokens: one issuer, as behind a load balancer.
      PORTCULLIS_ISSUER: 'http://portcullis.test',
    };
    // Started together on an empty schema: the migration and first-key advisory locks must let both through.
    [a, b] = await Promise.all([startServer(env), startServer(env)]);
  });
  after(async () => {
    const codes = await Promise.all([a?.stop(), b?.stop()]);
    await services?.close();
    assert.deepEqual(codes, [0, 0], `${a?.output()}\n${b?.output()}`);
  });

  it('both instances start on one empty schema at once and publish the same single key', async () => {
    const [ja, jb] = await Promise.all([jwks(a.url), jwks(b.url)]);
    assert.equal(ja.keys.length, 1);
    assert.deepEqual(ja, jb);
  });

  it('trips the account lock at exactly the configured count with failures alternating over both instances', async () => {
    const victim = await registerAndLogin(a.url, b.url, uniqueEmail('victim'));
    const wrong = { email: victim.email, password: 'not the password, spread over two nodes' };
    const statuses: number[] = [];
    for (let i = 0; i < MAX_FAILURES; i++) statuses.push((await call(i % 2 === 0 ? a.url : b.url, '/v1/auth/login', { body: wrong })).status);
    assert.deepEqual(statuses, Array(MAX_FAILURES).fill(401), 'each failure up to the limit is an ordinary 401');
    const right = { email: victim.email, password: PASSWORD };
    const onA = await call(a.url, '/v1/auth/login', { body: right });
    const onB = await call(b.url, '/v1/auth/login', { body: right });
    assert.equal(onA.status, 429, 'even the right password is refused once locked');
    assert.equal(onB.status, 429, 'and the lock binds the other instance too');
    assert.equal(onB.body.type, 'https://portcullis.dev/problems/rate-limited');

    // One failure short of the limit, spread the same way, does not lock.
    const other = await registerAndLogin(b.url, a.url, uniqueEmail('near-miss'));
    for (let i = 0; i < MAX_FAILURES - 1; i++) {
      assert.equal((await call(i % 2 === 0 ? b.url : a.url, '/v1/auth/login', { body: { email: other.email, password: 'wrong again, but not enough' } })).status, 401);
    }
    assert.equal((await call(a.url, '/v1/auth/login', { body: { email: other.email, password: PASSWORD } })).status, 200);
  });

  it('refuses on B, within 100 ms, an access token logged out on A', async () => {
    const { accessToken } = await registerAndLogin(a.url, a.url);
    assert.equal((await call(b.url, '/v1/auth/whoami', { token: accessToken })).status, 200, 'B accepts (and caches) the token first');
    assert.equal((await call(a.url, '/v1/auth/logout', { method: 'POST', token: accessToken })).status, 204);
    const started = performance.now();
    for (;;) {
      const res = await call(b.url, '/v1/auth/whoami', { token: accessToken });
      const elapsedMs = performance.now() - started;
      if (res.status === 401) {
        assert.ok(elapsedMs < 100, `B refused it after ${elapsedMs.toFixed(1)} ms`);
        break;
      }
      assert.equal(res.status, 200);
      assert.ok(elapsedMs < 100, `B still accepts the token ${elapsedMs.toFixed(1)} ms after logout on A`);
      await delay(3);
    }
  });

  it('after `keys rotate --now`, tokens A signs with the new key verify on B and both serve the same JWKS', async () => {
    const before = await jwks(a.url);
    const rotated = await runCli(['keys', 'rotate', '--now'], { ...services.env, PORTCULLIS_LOG_LEVEL: 'warn' });
    assert.equal(rotated.code, 0, rotated.stderr);
    const { kid } = JSON.parse(rotated.stdout) as { kid: string };
    assert.ok(!before.keys.some((k) => k.kid === kid), 'a new kid');

    // Each instance re-reads the key ring every second (tokens.keyRefreshSeconds=1).
    const deadline = Date.now() + 10_000;
    for (;;) {
      const [ja, jb] = await Promise.all([jwks(a.url), jwks(b.url)]);
      if (ja.keys.some((k) => k.kid === kid) && jb.keys.some((k) => k.kid === kid)) {
        assert.deepEqual(ja, jb, 'identical JWKS on both instances');
        assert.deepEqual(ja.keys.map((k) => k.kid).sort(), [...before.keys.map((k) => k.kid), kid].sort(), 'the old key stays published for live tokens');
        break;
      }
      assert.ok(Date.now() < deadline, 'both instances publish the new key within 10 s');
      await delay(100);
    }
    const { accessToken } = await registerAndLogin(a.url, a.url);
    assert.equal(kidOf(accessToken), kid, 'A signs with the new key');
    const whoami = await call(b.url, '/v1/auth/whoami', { token: accessToken });
    assert.equal(whoami.status, 200, JSON.stringify(whoami.body));
  });

  it(`${ACCOUNTS} registrations and logins spread over both instances each leave their audit event, and audit verify passes`, { timeout: 150_000 }, async () => {
    const tag = `load-${Date.now().toString(36)}`;
    const emails = Array.from({ length: ACCOUNTS }, (_, i) => `${tag}-${i}@example.com`);
    const started = performance.now();
    await inPool(emails, IN_FLIGHT, async (email, i) => {
      // Register on one instance, log in on the other: the login must see the other's write.
      const [first, second] = i % 2 === 0 ? [a.url, b.url] : [b.url, a.url];
      await registerAndLogin(first, second, email);
    });
    const elapsedS = (performance.now() - started) / 1000;
    console.log(`# ${ACCOUNTS} registrations + ${ACCOUNTS} logins over two instances in ${elapsedS.toFixed(1)} s (${IN_FLIGHT} in flight)`);

    const users = await services.db.selectFrom('users').select(['id', 'email']).where('email', 'like', `${tag}-%`).execute();
    assert.equal(users.length, ACCOUNTS);
    const ids = users.map((u) => u.id);
    const counts = await services.db.selectFrom('audit_events')
      .select(['type', (eb) => eb.fn.count<string>('id').as('n'), (eb) => eb.fn.count<string>('subject').distinct().as('subjects')])
      .where('subject', 'in', ids).groupBy('type').orderBy('type').execute();
    assert.deepEqual(counts.map((c) => ({ type: c.type, n: Number(c.n), subjects: Number(c.subjects) })), [
      { type: 'auth.login.succeeded', n: ACCOUNTS, subjects: ACCOUNTS },
      { type: 'user.registered', n: ACCOUNTS, subjects: ACCOUNTS },
    ]);

    const total = Number((await services.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    const verified = await runCli(['audit', 'verify'], { ...services.env, PORTCULLIS_LOG_LEVEL: 'warn' }, 120_000);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const result = JSON.parse(verified.stdout.trim().split('\n').at(-1)!) as { ok: boolean; checked: number };
    assert.equal(result.ok, true);
    assert.equal(result.checked, total, 'the chain covers every event both instances wrote');
  });
});
