/**
 * `portcullis audit verify` against real processes: migrate, serve, register accounts over
 * HTTP, stop with SIGTERM, verify the chain, tamper with one stored event directly in the
 * database, and verify again. Runs on embedded PGlite always and on PostgreSQL when
 * DATABASE_URL is set (required when PORTCULLIS_REQUIRE_SERVICES=1).
 *
 * Threat: an operator or attacker with database access edits the audit log; the offline
 * check must exit non-zero and name the exact event.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import { migrateToLatest, openDatabase } from '../../src/platform/db/database.js';
import { childEnv, freePort } from '../fixtures/server-process.js';
import { createPostgresTestDatabase, postgresUrl } from '../fixtures/database.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PASSWORD = 'violet kettle drums at midnight';
const REGISTRATIONS = 3;
/** initdb of a fresh PGlite alone takes ~5 s and ~800 MB; leave room for a loaded CI machine. */
const COMMAND_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 240_000;

interface Exit { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

const children = new Set<ChildProcess>();

/** Spawns `node --import tsx src/main.ts ...args`; the process is killed if it outlives `timeoutMs`. */
function spawnCli(args: string[], env: Record<string, string>, timeoutMs = COMMAND_TIMEOUT_MS): { child: ChildProcess; exited: Promise<Exit> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, exited };
}

/** Runs a CLI command to completion. */
function runCli(args: string[], env: Record<string, string>): Promise<Exit> {
  return spawnCli(args, env).exited;
}

function describeExit(what: string, exit: Exit): string {
  return `${what}: code ${exit.code}, signal ${exit.signal}\n--- stdout\n${exit.stdout.slice(-3000)}\n--- stderr\n${exit.stderr.slice(-3000)}`;
}

/** Polls GET /healthz until it answers 200; fails early if the server process died. */
async function waitForHealthy(base: string, server: { child: ChildProcess; exited: Promise<Exit> }): Promise<void> {
  let died: Exit | undefined;
  void server.exited.then((exit) => { died = exit; });
  const deadline = Date.now() + COMMAND_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (died) assert.fail(describeExit('serve exited before it was healthy', died));
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await delay(100);
  }
  assert.fail('serve did not become healthy in time');
}

/** The one line of stdout that is the command's result; every other line must be a pino log line. */
function resultLine(exit: Exit): unknown {
  const lines = exit.stdout.split('\n').filter((l) => l.trim() !== '');
  const parsed = lines.map((l): Record<string, unknown> => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return assert.fail(describeExit(`stdout line is not JSON: ${l}`, exit));
    }
  });
  const results = parsed.filter((p) => typeof p.level !== 'number');
  assert.equal(results.length, 1, describeExit('exactly one result line on stdout', exit));
  assert.equal(parsed.at(-1), results[0], 'the result is the last line');
  return results[0];
}

/** How a scenario reaches its database from the test process, with the server stopped. */
interface Backend {
  env: Record<string, string>;
  /** Ids of the audit events in chain order (sealed events only). */
  eventIds(): Promise<string[]>;
  /** Edits the `data` of one event behind the append-only trigger's back. */
  tamperData(id: string): Promise<void>;
}

/** migrate -> serve -> register -> SIGTERM -> verify ok -> tamper -> verify names the event. */
async function verifyScenario(backend: Backend, migrateOutput: RegExp): Promise<void> {
  const migrated = await runCli(['migrate'], backend.env);
  assert.equal(migrated.code, 0, describeExit('migrate', migrated));
  assert.match(migrated.stdout, migrateOutput);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawnCli(['serve'], { ...backend.env, PORTCULLIS_HOST: '127.0.0.1', PORTCULLIS_PORT: String(port) }, TEST_TIMEOUT_MS);
  await waitForHealthy(base, server);
  for (let i = 0; i < REGISTRATIONS; i++) {
    const email = `e2e-${i}-${randomBytes(4).toString('hex')}@example.com`;
    const res = await fetch(`${base}/v1/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }),
      signal: AbortSignal.timeout(15_000),
    });
    assert.equal(res.status, 201, await res.text());
  }
  server.child.kill('SIGTERM');
  const stopped = await server.exited;
  assert.equal(stopped.code, 0, describeExit('serve after SIGTERM', stopped));

  // The server's last seal pass on SIGTERM sealed every event it wrote.
  const ids = await backend.eventIds();
  assert.equal(ids.length, REGISTRATIONS);

  const verified = await runCli(['audit', 'verify'], backend.env);
  assert.equal(verified.code, 0, describeExit('audit verify', verified));
  assert.deepEqual(resultLine(verified), { ok: true, checked: REGISTRATIONS, unsealed: 0 });
  const victim = ids[1]!;
  await backend.tamperData(victim);

  const broken = await runCli(['audit', 'verify'], backend.env);
  assert.equal(broken.code, 1, describeExit('audit verify after tampering', broken));
  assert.deepEqual(resultLine(broken), { ok: false, checked: 2, unsealed: 0, firstBadId: victim });
}

after(() => {
  for (const child of children) child.kill('SIGKILL');
});

describe('portcullis audit verify on embedded PGlite', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('exits 0 with {ok:true, checked:N} after N registrations, and 1 naming the exact event once one was edited', { timeout: TEST_TIMEOUT_MS }, async () => {
    const withPglite = async <T>(work: (pg: PGlite) => Promise<T>): Promise<T> => {
      const pg = new PGlite(join(dir, 'pglite'));
      try {
        return await work(pg);
      } finally {
        await pg.close();
      }
    };
    await verifyScenario({
      env: childEnv({ PORTCULLIS_DATA_DIR: dir }),
      eventIds: () => withPglite(async (pg) => (await pg.query<{ id: string }>('select id from audit_events where chain_seq is not null order by chain_seq')).rows.map((r) => r.id)),
      tamperData: (id) => withPglite(async (pg) => {
        await pg.exec('alter table audit_events disable trigger user');
        const result = await pg.query(`update audit_events set data = '{"email":"mallory@example.com"}'::jsonb where id = $1`, [id]);
        assert.equal(result.affectedRows, 1);
        await pg.exec('alter table audit_events enable trigger user');
      }),
    }, /applied: 0001-initial/);
  });
});

const url = postgresUrl();

describe('portcullis audit verify on PostgreSQL', { skip: url ? false : 'DATABASE_URL is not set' }, () => {
  const schemas: string[] = [];
  const dirs: string[] = [];

  /** A fresh schema, and DATABASE_URL pointing the CLI at it through the connection's search_path. */
  async function freshSchema(): Promise<{ schema: string; databaseUrl: string }> {
    const schema = `e2e_${randomBytes(6).toString('hex')}`;
    const admin = await openDatabase({ databaseUrl: url });
    try {
      await sql`create schema ${sql.id(schema)}`.execute(admin.db);
    } finally {
      await admin.close();
    }
    schemas.push(schema);
    // node-postgres passes `options` from the connection string to the server as startup options.
    const databaseUrl = new URL(url!);
    databaseUrl.searchParams.set('options', `-c search_path=${schema}`);
    return { schema, databaseUrl: databaseUrl.toString() };
  }

  function dataDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-pg-'));
    dirs.push(dir);
    return dir;
  }

  after(async () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    if (schemas.length === 0) return;
    const admin = await openDatabase({ databaseUrl: url });
    try {
      for (const schema of schemas) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.db);
    } finally {
      await admin.close();
    }
  });

  it('exits 0 with {ok:true, checked:N} after N registrations, and 1 naming the exact event once one was edited', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { schema, databaseUrl } = await freshSchema();
    // Migrated from here, with the schema named: `portcullis migrate` cannot yet migrate a fresh
    // schema while another schema of the database holds Kysely's migration tables (see the next test).
    const setup = await openDatabase({ databaseUrl: url, schema });
    try {
      await migrateToLatest(setup.db, schema);
    } finally {
      await setup.close();
    }
    const withSchema = async <T>(work: (db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<T>): Promise<T> => {
      const database = await openDatabase({ databaseUrl: url, schema });
      try {
        return await work(database.db);
      } finally {
        await database.close();
      }
    };
    await verifyScenario({
      env: childEnv({ PORTCULLIS_DATA_DIR: dataDir(), DATABASE_URL: databaseUrl }),
      eventIds: () => withSchema(async (db) => (await db.selectFrom('audit_events').select('id').where('chain_seq', 'is not', null).orderBy('chain_seq').execute()).map((r) => r.id)),
      tamperData: (id) => withSchema(async (db) => {
        await sql`alter table audit_events disable trigger user`.execute(db);
        const result = await sql`update audit_events set data = '{"email":"mallory@example.com"}'::jsonb where id = ${id}`.execute(db);
        assert.equal(result.numAffectedRows, 1n);
        await sql`alter table audit_events enable trigger user`.execute(db);
      }),
    }, /already up to date/);
  });

  it('migrate creates the tables in the schema of its search_path even when another schema already holds a migrated Portcullis', { timeout: TEST_TIMEOUT_MS }, async () => {
    // Another Portcullis (or any Kysely app) in the same database, as on a shared server or in a parallel test run.
    const neighbour = await createPostgresTestDatabase(url!);
    try {
      const { schema, databaseUrl } = await freshSchema();
      const migrated = await runCli(['migrate'], childEnv({ PORTCULLIS_DATA_DIR: dataDir(), DATABASE_URL: databaseUrl }));
      assert.equal(migrated.code, 0, describeExit('migrate', migrated));
      assert.match(migrated.stdout, /applied: 0001-initial/);
      const tablesOf = async (name: string) => {
        const admin = await openDatabase({ databaseUrl: url });
        try {
          const { rows } = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = ${name} order by 1`.execute(admin.db);
          return rows.map((r) => r.name);
        } finally {
          await admin.close();
        }
      };
      const neighbourSchema = (await sql<{ name: string }>`select current_schema() as name`.execute(neighbour.db)).rows[0]!.name;
      const tables = await tablesOf(schema);
      // Every table of a fully migrated Portcullis (whatever later migrations add), and the migrator's own.
      assert.deepEqual(tables, await tablesOf(neighbourSchema));
      for (const table of ['audit_events', 'audit_relay_position', 'kysely_migration', 'kysely_migration_lock', 'users']) assert.ok(tables.includes(table), table);
    } finally {
      await neighbour.close();
    }
  });
});
