/**
 * Which failures become "503, try again in 5 s" and which stay a generic 500. An outage of the
 * database or Redis must not look like a bug (500) to clients and load balancers, and a bug must
 * not hide behind a 503. The connection failures are produced for real where that is cheap (a
 * refused port, a cut proxy, a terminated backend, a statement timeout); the rest are the shapes
 * node-postgres and ioredis report.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { postgresUrl } from '../../../test/fixtures/database.js';
import { freePort } from '../../../test/fixtures/server-process.js';
import { startTcpProxy, type TcpProxy } from '../../../test/fixtures/tcp-proxy.js';
import { DependencyUnavailableError, unavailableDependency } from './dependency-unavailable.js';
import { errorHandlerPlugin, toProblemError } from './error-handler.js';
import { ProblemError } from './problem.js';
import { commonProblems } from './common-problems.js';

/** Runs `work` and returns what it rejected with. */
async function rejection(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** An app whose only route throws `error`, rendered by the real error handler. */
async function appThrowing(error: unknown): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(errorHandlerPlugin);
  app.get('/', async () => { throw error; });
  return app;
}

const dbShapes: Array<[string, unknown]> = [
  ['SQLSTATE 08006 connection_failure', Object.assign(new Error('connection failure'), { code: '08006', severity: 'FATAL' })],
  ['SQLSTATE 08001 unable to connect', Object.assign(new Error('could not connect'), { code: '08001' })],
  ['SQLSTATE 57P01 admin_shutdown', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
  ['SQLSTATE 57P02 crash_shutdown', Object.assign(new Error('crash shutdown'), { code: '57P02' })],
  ['SQLSTATE 57P03 cannot_connect_now', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
  ['SQLSTATE 53300 too_many_connections', Object.assign(new Error('sorry, too many clients already'), { code: '53300' })],
  ['SQLSTATE 57014 statement timeout', Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })],
  ['ETIMEDOUT', Object.assign(new Error('connect ETIMEDOUT 10.0.0.1:5432'), { code: 'ETIMEDOUT' })],
  ['ECONNRESET', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
  ['pg "Connection terminated unexpectedly"', new Error('Connection terminated unexpectedly')],
  ['pg "Connection terminated due to connection timeout"', new Error('Connection terminated due to connection timeout')],
  ['pg-pool connect timeout', new Error('timeout exceeded when trying to connect')],
  ['pg query_timeout', new Error('Query read timeout')],
  ['pg unqueryable client', new Error('Client has encountered a connection error and is not queryable')],
  ['happy-eyeballs AggregateError', new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })], 'connect failed')],
  ['an error caused by ECONNREFUSED', new Error('login failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })],
];

const redisShapes: Array<[string, unknown]> = [
  ['ioredis without offline queue', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
  ['ioredis command timeout', new Error('Command timed out')],
  ['ioredis closed connection', new Error('Connection is closed.')],
  ['rate-limiter-flexible not ready', new Error('Redis connection is not ready')],
  ['ioredis Cluster not ready', new Error("Cluster isn't ready and enableOfflineQueue options is false")],
  ['ioredis Cluster redirections exhausted', new Error('Too many Cluster redirections. Last error: Error: Connection is closed.')],
  ['Redis Cluster down', new Error('CLUSTERDOWN The cluster is down')],
  ['ioredis Sentinel unreachable', new Error('All sentinels are unreachable. Retrying from scratch after 100ms.')],
  ['a master demoted by a Sentinel failover', new Error("READONLY You can't write against a read only replica.")],
  ['DependencyUnavailableError', new DependencyUnavailableError('redis')],
];

const notOutages: Array<[string, unknown]> = [
  ['SQLSTATE 23505 unique_violation', Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' })],
  ['SQLSTATE 42P01 undefined_table', Object.assign(new Error('relation "x" does not exist'), { code: '42P01' })],
  ['SQLSTATE 22P02 invalid text representation', Object.assign(new Error('invalid input syntax'), { code: '22P02' })],
  ['a code that only starts like class 08', Object.assign(new Error('x'), { code: '0800' })],
  ['a plain Error', new Error('boom')],
  ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
  ['a message merely mentioning a connection', new Error('the connection string was invalid')],
  ['a string', 'Connection terminated'],
  ['null', null],
  ['undefined', undefined],
  ['a number', 42],
];

describe('unavailableDependency', () => {
  for (const [name, error] of dbShapes) {
    it(`attributes ${name} to the database`, () => assert.equal(unavailableDependency(error), 'database'));
  }
  for (const [name, error] of redisShapes) {
    it(`attributes ${name} to Redis`, () => assert.equal(unavailableDependency(error), 'redis'));
  }
  for (const [name, error] of notOutages) {
    it(`does not call ${name} an outage`, () => assert.equal(unavailableDependency(error), undefined));
  }

  it('stops at a cause cycle instead of looping', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    assert.equal(unavailableDependency(a), undefined);
  });
});

describe('toProblemError and the error handler on dependency failures', () => {
  it('renders an outage as 503 problem+json with Retry-After: 5 and no internals', async () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432 password=hunter2'), { code: 'ECONNREFUSED' });
    const app = await appThrowing(cause);
    try {
      const res = await app.inject({ url: '/' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers['retry-after'], '5');
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      const body = JSON.parse(res.body) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['requestId', 'status', 'title', 'type']);
      assert.equal(body.type, 'https://portcullis.dev/problems/service-unavailable');
      assert.equal(body.status, 503);
      assert.doesNotMatch(res.body, /ECONNREFUSED|5432|hunter2/);
    } finally {
      await app.close();
    }
  });

  it('keeps a bug a generic 500 without Retry-After', async () => {
    const app = await appThrowing(Object.assign(new Error('duplicate key'), { code: '23505' }));
    try {
      const res = await app.inject({ url: '/' });
      assert.equal(res.statusCode, 500);
      assert.equal(res.headers['retry-after'], undefined);
      assert.equal(JSON.parse(res.body).type, 'https://portcullis.dev/problems/internal');
    } finally {
      await app.close();
    }
  });

  it('passes a ProblemError through unchanged, even a 503 a service chose to throw', () => {
    const problem = new ProblemError(commonProblems.SERVICE_UNAVAILABLE, { headers: { 'retry-after': '30' } });
    assert.equal(toProblemError(problem), problem);
  });
});

describe('real driver failures map to 503', () => {
  it('a pg connect to a port where nothing listens (ECONNREFUSED)', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: await freePort(), user: 'postgres', connectionTimeoutMillis: 2_000 });
    const error = await rejection(() => client.connect());
    assert.equal(toProblemError(error).status, 503, String(error));
  });

  it('an ioredis command on a client that cannot connect (no offline queue)', async () => {
    const client = new Redis({ port: await freePort(), enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      const error = await rejection(() => client.ping());
      assert.equal(toProblemError(error).status, 503, String(error));
    } finally {
      client.disconnect();
    }
  });

  const url = postgresUrl();
  describe('on PostgreSQL', { skip: url ? false : 'DATABASE_URL is not set' }, () => {
    let proxy: TcpProxy;
    const target = new URL(url ?? 'postgres://127.0.0.1:5432');
    // Explicit fields: node-postgres lets a connectionString override host and port.
    const viaProxy = () => ({
      host: '127.0.0.1', port: proxy.port, user: decodeURIComponent(target.username) || 'postgres',
      password: decodeURIComponent(target.password) || undefined, database: target.pathname.slice(1) || undefined,
    });
    before(async () => { proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) }); });
    after(async () => { await proxy.close(); });

    it('a backend terminated by the server (57P01)', async () => {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => undefined);
      await client.connect();
      try {
        const error = await rejection(() => client.query('select pg_terminate_backend(pg_backend_pid())'));
        assert.equal((error as { code?: string }).code, '57P01');
        assert.equal(toProblemError(error).status, 503);
      } finally {
        await client.end().catch(() => undefined);
      }
    });

    it('a statement cancelled by statement_timeout (57014)', async () => {
      const client = new pg.Client({ connectionString: url, statement_timeout: 50 });
      await client.connect();
      try {
        const error = await rejection(() => client.query('select pg_sleep(2)'));
        assert.equal((error as { code?: string }).code, '57014');
        assert.equal(toProblemError(error).status, 503);
      } finally {
        await client.end();
      }
    });

    it('a query whose connection is cut mid-flight', async () => {
      await proxy.restore();
      const client = new pg.Client({ ...viaProxy(), connectionTimeoutMillis: 2_000 });
      client.on('error', () => undefined);
      await client.connect();
      const pending = rejection(() => client.query('select pg_sleep(5)'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await proxy.cut('refuse');
      const error = await pending;
      assert.equal(toProblemError(error).status, 503, String(error));
      await client.end().catch(() => undefined);
    });

    it('a pool connect that times out on a black-holed network', async () => {
      await proxy.restore();
      await proxy.cut('blackhole');
      const pool = new pg.Pool({ ...viaProxy(), connectionTimeoutMillis: 200 });
      pool.on('error', () => undefined);
      try {
        const started = performance.now();
        const error = await rejection(() => pool.query('select 1'));
        assert.ok(performance.now() - started < 1_500, 'the connect timeout bounds the wait');
        assert.equal(toProblemError(error).status, 503, String(error));
      } finally {
        await pool.end();
        await proxy.restore();
      }
    });

    it('but not a query against a table that does not exist (42P01)', async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const error = await rejection(() => client.query('select * from no_such_table_here'));
        assert.equal(toProblemError(error).status, 500);
      } finally {
        await client.end();
      }
    });
  });
});
