/*
 * The migrator's table lookup on a shared PostgreSQL: it sees only this connection's schema, and a
 * neighbour creating and dropping schemas at the same time never makes start-up fail (Kysely's own
 * introspector failed ~5% of its calls with `schema "x" does not exist` under this churn).
 * Runs when DATABASE_URL is set (required under PORTCULLIS_REQUIRE_SERVICES=1).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createPostgresTestDatabase, postgresUrl } from '../../../test/fixtures/database.js';
import { type Database, migrateToLatest, openDatabase } from './database.js';

const url = postgresUrl();

describe('migrations on a PostgreSQL shared with other schemas', { skip: !url && 'DATABASE_URL is not set' }, () => {
  let ours: Database;
  let neighbour: Database;
  const neighbourSchema = `n_${randomBytes(6).toString('hex')}`;

  before(async () => {
    ours = await createPostgresTestDatabase(url!);
    neighbour = await openDatabase({ databaseUrl: url! });
    await sql`create schema ${sql.id(neighbourSchema)}`.execute(neighbour.db);
    // A table named like ours, in another schema: it must not be taken for ours.
    await sql`create table ${sql.id(neighbourSchema)}.users (id serial primary key, note text)`.execute(neighbour.db);
  });

  after(async () => {
    await sql`drop schema if exists ${sql.id(neighbourSchema)} cascade`.execute(neighbour.db);
    await neighbour.close();
    await ours.close();
  });

  it('lists only the tables of its own schema, with their columns', async () => {
    const tables = await ours.db.introspection.getTables({ withInternalKyselyTables: true });
    const schemas = new Set(tables.map((table) => table.schema));
    assert.equal(schemas.size, 1);
    assert.ok(!schemas.has(neighbourSchema) && !schemas.has('public'));
    const users = tables.find((table) => table.name === 'users');
    assert.ok(users, 'our users table is listed');
    const email = users.columns.find((column) => column.name === 'email');
    assert.equal(email?.isNullable, false);
    assert.ok(!users.columns.some((column) => column.name === 'note'), 'the neighbour users table is not merged in');
    assert.ok(tables.some((table) => table.name === 'kysely_migration'));
    assert.ok(!(await ours.db.introspection.getTables()).some((table) => table.name === 'kysely_migration'));
  });

  it('migrates while another client creates and drops schemas', { timeout: 60_000 }, async () => {
    let stop = false;
    let churned = 0;
    const churn = (async () => {
      while (!stop) {
        const schema = `churn_${randomBytes(5).toString('hex')}`;
        await sql`create schema ${sql.id(schema)}`.execute(neighbour.db);
        await sql`create table ${sql.id(schema)}.t (id serial primary key, a text)`.execute(neighbour.db);
        await sql`drop schema ${sql.id(schema)} cascade`.execute(neighbour.db);
        churned++;
      }
    })();
    const schema = (await sql<{ schema: string }>`select current_schema() as schema`.execute(ours.db)).rows[0]!.schema;
    const failures: string[] = [];
    try {
      for (let attempt = 0; attempt < 60; attempt++) {
        try {
          assert.deepEqual(await migrateToLatest(ours.db, schema), []);
        } catch (error) {
          failures.push(String(error));
        }
      }
    } finally {
      stop = true;
      await churn;
    }
    assert.ok(churned > 10, `the neighbour dropped ${churned} schemas meanwhile`);
    assert.deepEqual(failures, []);
  });
});
