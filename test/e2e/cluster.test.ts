/*
 * `portcullis serve --cluster N` with real processes: the primary forks N workers sharing one
 * port, restarts a worker that dies, and on SIGTERM stops them all and exits 0. It refuses the
 * configurations where workers could not share state (embedded PGlite, no Redis).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { postgresUrl } from '../fixtures/database.js';
import { redisUrl, servicesRequired } from '../fixtures/redis.js';
import { createSharedServices, runCli, type ServerProcess, type SharedServices, startServer } from '../fixtures/server-process.js';

const databaseUrl = postgresUrl();

/** A request on a fresh connection (no keep-alive), so the cluster's round robin picks a worker each time. */
function requestFresh(url: string, body?: string): Promise<{ status: number; worker: string | undefined }> {
  return new Promise((resolve, reject) => {
    const options = body === undefined
      ? { agent: false as const, timeout: 10_000 }
      : { agent: false as const, timeout: 10_000, method: 'POST', headers: { 'content-type': 'application/json' } };
    const req = request(url, options, (res) => {
      res.resume();
      res.on('end', () => {
        const worker = res.headers['x-portcullis-worker'];
        resolve({ status: res.statusCode ?? 0, worker: typeof worker === 'string' ? worker : undefined });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Worker ids that answered `rounds` fresh-connection requests. */
async function workersAnswering(base: string, rounds: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < rounds; i++) {
    const res = await requestFresh(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.ok(res.worker, 'every answer names its worker');
    seen.add(res.worker);
  }
  return seen;
}

function logLines(server: ServerProcess): Array<Record<string, unknown>> {
  return server.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Waits until at least `count` log lines match; returns them all. */
async function waitForLog(server: ServerProcess, match: (line: Record<string, unknown>) => boolean, what: string, count = 1, timeoutMs = 60_000): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = logLines(server).filter(match);
    if (found.length >= count) return found;
    assert.ok(Date.now() < deadline, `${what} within ${timeoutMs} ms:\n${server.output().slice(-3000)}`);
    await delay(100);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('serve --cluster refuses configurations where workers could not share state', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-cluster-refusal-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 78 in embedded mode (no DATABASE_URL), naming the setting', async () => {
    const res = await runCli(['serve', '--cluster', '2'], { PORTCULLIS_DATA_DIR: dir });
    assert.equal(res.code, 78, res.stderr);
    assert.match(res.stderr, /serve --cluster needs DATABASE_URL/);
    assert.match(res.stderr, /PGlite/);
  });

  it('exits 78 without REDIS_URL, naming the setting', async () => {
    // Refused before any connection is attempted, so the database need not exist.
    const res = await runCli(['serve', '--cluster', 'auto'], { PORTCULLIS_DATA_DIR: dir, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    assert.equal(res.code, 78, res.stderr);
    assert.match(res.stderr, /serve --cluster needs REDIS_URL/);
  });

  it('exits 64 on a worker count that is not one', async () => {
    for (const value of ['two', '-1', '1.5', '1000', '']) {
      const res = await runCli(['serve', `--cluster=${value}`], { PORTCULLIS_DATA_DIR: dir });
      assert.equal(res.code, 64, `--cluster=${value}: ${res.stderr}`);
      assert.match(res.stderr, /--cluster takes a worker count/);
    }
  });
});

if ((!databaseUrl || !redisUrl) && servicesRequired) {
  describe('serve --cluster 2', () => {
    it('runs on PostgreSQL and Redis: PORTCULLIS_REQUIRE_SERVICES=1 forbids skipping it', () => {
      throw new Error('PORTCULLIS_REQUIRE_SERVICES=1 but DATABASE_URL or REDIS_URL is not set');
    });
  });
}

describe('serve --cluster 2', { skip: databaseUrl && redisUrl ? false : 'DATABASE_URL or REDIS_URL is not set' }, () => {
  let services: SharedServices;
  let server: ServerProcess;

  before(async () => {
    services = await createSharedServices(databaseUrl!, redisUrl!);
    server = await startServer({ ...services.env, PORTCULLIS_LOG_LEVEL: 'info' }, 90_000, ['--cluster', '2']);
  });
  after(async () => {
    if (server?.child.exitCode === null) await server.stop();
    await services?.close();
  });

  it('forks two workers with distinct pids that both answer on the one port, logging JSON with their worker id', { timeout: 90_000 }, async () => {
    const listening = await waitForLog(server, (l) => l.msg === 'worker listening', 'both workers listening', 2);
    const pids = new Set(listening.map((l) => l.workerPid));
    assert.equal(pids.size, 2, 'two distinct worker processes');
    assert.ok(![...pids].includes(server.child.pid), 'neither is the primary');
    assert.deepEqual(await workersAnswering(server.url, 6), new Set(['1', '2']), 'round robin reaches both workers');
    // The workers' own lines are pino JSON carrying their worker id and their own pid.
    const workerLines = logLines(server).filter((l) => l.msg === 'Server listening at ' + server.url);
    assert.deepEqual(new Set(workerLines.map((l) => l.workerId)), new Set([1, 2]));
    assert.deepEqual(new Set(workerLines.map((l) => l.pid)), pids);
  });

  it('serves accounts across workers: registered through one, logged in through another', async () => {
    const email = `cluster-${Date.now()}@example.com`;
    const body = JSON.stringify({ email, password: 'violet kettle drums at midnight' });
    const reg = await requestFresh(`${server.url}/v1/auth/register`, body);
    assert.equal(reg.status, 201);
    // Round robin hands each new connection to the next free worker: a few logins reach the other one.
    const loggedInThrough = new Set<string>();
    for (let i = 0; i < 6 && !(loggedInThrough.size === 2); i++) {
      const login = await requestFresh(`${server.url}/v1/auth/login`, body);
      assert.equal(login.status, 200);
      loggedInThrough.add(login.worker!);
    }
    assert.deepEqual(loggedInThrough, new Set(['1', '2']), `registered through worker ${reg.worker}; logins answered by both workers`);
  });

  it('restarts a worker that dies, and the new one answers', { timeout: 90_000 }, async () => {
    const victim = logLines(server).find((l) => l.msg === 'worker listening' && l.workerId === 1)!;
    process.kill(victim.workerPid as number, 'SIGKILL');
    const [crash] = await waitForLog(server, (l) => l.msg === 'worker exited unexpectedly; restarting', 'the primary notices the crash');
    assert.equal(crash!.workerId, 1);
    assert.equal(crash!.signal, 'SIGKILL');
    assert.equal(crash!.restartInMs, 1_000, 'first restart after the base backoff');
    const [replacement] = await waitForLog(server, (l) => l.msg === 'worker listening' && l.workerId === 3, 'a replacement worker');
    assert.notEqual(replacement!.workerPid, victim.workerPid);
    const deadline = Date.now() + 10_000;
    let seen = new Set<string>();
    while (!(seen.has('2') && seen.has('3'))) {
      assert.ok(Date.now() < deadline, `workers 2 and 3 both answer (saw ${[...seen].join(',')})`);
      seen = new Set([...seen, ...await workersAnswering(server.url, 4)]);
    }
    assert.ok(!seen.has('1'), 'the dead worker answers nothing');
  });

  it('exits 1 instead of restarting for ever when no worker can start (port already taken)', { timeout: 90_000 }, async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const res = await runCli(['serve', '--cluster', '2'], { ...services.env, PORTCULLIS_HOST: '127.0.0.1', PORTCULLIS_PORT: String(port) }, 90_000);
      assert.equal(res.code, 1, res.stdout + res.stderr);
      assert.match(res.stdout, /worker failed to start; stopping the cluster/);
      assert.doesNotMatch(res.stdout, /restarting/);
    } finally {
      taken.close();
    }
  });

  it('on SIGTERM stops every worker and exits 0', { timeout: 60_000 }, async () => {
    const pids = logLines(server).filter((l) => l.msg === 'worker listening').map((l) => l.workerPid as number);
    const code = await server.stop(30_000);
    assert.equal(code, 0, server.output().slice(-3000));
    const lines = logLines(server);
    assert.ok(lines.some((l) => l.msg === 'all workers stopped' && l.exitCode === 0));
    assert.equal(lines.filter((l) => l.msg === 'shutdown complete').length, 2, 'both live workers drained and closed');
    for (const pid of pids) assert.equal(isAlive(pid), false, `worker ${pid} is gone`);
  });
});
