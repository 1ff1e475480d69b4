/**
 * The PostgreSQL pool across a lost connection (a TCP proxy we control is cut): a connection that
 * dies while checked out must fail the query using it, not crash the process with an unhandled
 * 'error' event, and must not go back into the pool. Runs when DATABASE_URL is set (required
 * under PORTCULLIS_REQUIRE_SERVICES=1).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { postgresUrl } from '../../../test/fixtures/database.js';
import { startTcpProxy, type TcpProxy } from '../../../test/fixtures/tcp-proxy.js';
import { type Database, openDatabase } from './database.js';

const url = postgresUrl();

describe('PostgreSQL pool when the connection is lost', { skip: url ? false : 'DATABASE_URL is not set' }, () => {
  let proxy: TcpProxy;
  let database: Database;
  const connectionErrors: Error[] = [];

  before(async () => {
    const target = new URL(url!);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    target.host = `127.0.0.1:${proxy.port}`;
    // One connection: a broken client left in the pool would fail every later query.
    database = await openDatabase({ databaseUrl: target.toString(), poolMax: 1, connectTimeoutMs: 1_000, onConnectionError: (error) => connectionErrors.push(error) });
  });
  after(async () => {
    await database.close();
    await proxy.close();
  });

  it('fails the transaction whose connection died between two statements, reports it, and serves the next query on a fresh connection', async () => {
    const transaction = database.db.transaction().execute(async (tx) => {
      await sql`select 1`.execute(tx);
      // The connection dies while checked out and idle: pg emits 'error' on the client, which
      // without a listener would be an uncaught exception that ends this test process.
      await proxy.cut('refuse');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await sql`select 2`.execute(tx);
    });
    await assert.rejects(transaction);
    assert.ok(connectionErrors.length >= 1, 'the lost connection was reported');
    await assert.rejects(database.ping(1_500));

    await proxy.restore();
    const { rows } = await sql<{ ok: number }>`select 1 as ok`.execute(database.db);
    assert.deepEqual(rows, [{ ok: 1 }]);
    await database.ping();
  });
});
