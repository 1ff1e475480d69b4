/*
 * The embedded database's first start: the cluster is created off the serving thread, so the
 * process serves with a small WebAssembly memory (initdb's ~600 MiB is gone with the worker), and
 * with the configured shared_buffers; what the server then writes is in that same cluster.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { migrateToLatest, openDatabase } from './database.js';
import { needsEmbeddedInit } from './pglite-first-start.js';

const MIB = 1024 * 1024;

describe('embedded database, first start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-first-start-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves a fresh cluster with a small memory and the configured shared_buffers, and keeps what it wrote', { timeout: 120_000 }, async () => {
    assert.equal(needsEmbeddedInit(join(dataDir, 'pglite')), true);
    const first = await openDatabase({ dataDir, embeddedSharedBuffersMb: 24 });
    try {
      assert.equal(needsEmbeddedInit(join(dataDir, 'pglite')), false);
      // Opened in this thread, the instance that ran initdb held ~600 MiB of WebAssembly memory.
      const external = process.memoryUsage().external;
      assert.ok(external < 350 * MIB, `external memory after the first start: ${Math.round(external / MIB)} MiB`);
      const { rows } = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(first.db);
      assert.equal(rows[0]?.shared_buffers, '24MB');
      await migrateToLatest(first.db);
      await sql`create table first_start_probe (note text)`.execute(first.db);
      await sql`insert into first_start_probe values ('written after the first start')`.execute(first.db);
    } finally {
      await first.close();
    }
    const again = await openDatabase({ dataDir, embeddedSharedBuffersMb: 24 });
    try {
      const { rows } = await sql<{ note: string }>`select note from first_start_probe`.execute(again.db);
      assert.deepEqual(rows, [{ note: 'written after the first start' }]);
    } finally {
      await again.close();
    }
  });
});
