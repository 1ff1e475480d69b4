import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { migrations } from './migrations/index.js';
import { initEmbeddedCluster, needsEmbeddedInit } from './pglite-first-start.js';
import type { DB } from './schema.js';
import { SearchPathPostgresDialect } from './search-path-introspector.js';

/** An open database: Kysely over PGlite or PostgreSQL, the same SQL either way. */
export interface Database {
  readonly db: Kysely<DB>;
  readonly kind: 'pglite' | 'postgres';
  /** Resolves when the database answers a trivial query within the timeout. */
  ping(timeoutMs?: number): Promise<void>;
  /** Closes pools or flushes PGlite; call once, after the last query. */
  close(): Promise<void>;
}

/** How to reach the database; `databaseUrl` unset means embedded PGlite in `dataDir`. */
export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir?: string;
  /** An already-open PGlite (tests load it from a migrated snapshot). */
  pglite?: PGlite;
  /** Embedded PGlite's shared_buffers in MiB (PostgreSQL's default, 128, is most of an idle process's memory). */
  embeddedSharedBuffersMb?: number;
  /** PostgreSQL schema to use instead of `public` (tests get a fresh one each). */
  schema?: string;
  poolMax?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Connection errors outside any query (a server restart, a cut network); the pool replaces the client. */
  onConnectionError?: (error: Error) => void;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Opens the configured database (it does not migrate: see migrateToLatest). */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    if (options.schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) throw new Error('invalid schema name');
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolMax ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      statement_timeout: options.statementTimeoutMs ?? 5_000,
      query_timeout: (options.statementTimeoutMs ?? 5_000) + 1_000,
      options: options.schema ? `-c search_path=${options.schema}` : undefined,
      // TCP keepalive, so a peer that vanished without a FIN (a cut network) is noticed on idle connections too.
      keepAlive: true,
    });
    const onConnectionError = options.onConnectionError ?? (() => undefined);
    // An idle client losing its connection must not crash the process; the pool drops it.
    pool.on('error', onConnectionError);
    // pg-pool listens for errors only while a client is idle: a connection that dies while checked out
    // between two queries (e.g. inside a transaction) would emit 'error' with no listener and crash
    // the process. A permanent listener keeps it an error of the current query instead; pg-pool then
    // discards the client on release (it is no longer queryable), so no broken client is reused.
    pool.on('connect', (client) => { client.on('error', onConnectionError); });
    const db = new Kysely<DB>({ dialect: new SearchPathPostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      ping: (timeoutMs = 2_000) => withTimeout(sql`select 1`.execute(db).then(() => undefined), timeoutMs, 'database ping'),
      close: () => db.destroy(),
    };
  }
  let pglite = options.pglite;
  if (!pglite) {
    const dir = join(options.dataDir ?? './data', 'pglite');
    mkdirSync(dir, { recursive: true });
    const startParams = options.embeddedSharedBuffersMb === undefined
      ? PGlite.defaultStartParams
      : [...PGlite.defaultStartParams, '-c', `shared_buffers=${options.embeddedSharedBuffersMb}MB`];
    if (needsEmbeddedInit(dir)) await initEmbeddedCluster(dir, startParams);
    pglite = await PGlite.create(dir, { startParams });
  }
  const db = new Kysely<DB>({ dialect: new PGliteDialect({ pglite }) });
  return {
    db,
    kind: 'pglite',
    ping: (timeoutMs = 2_000) => withTimeout(sql`select 1`.execute(db).then(() => undefined), timeoutMs, 'database ping'),
    close: async () => {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}

/** Applies pending migrations under PostgreSQL's migration lock, so concurrent starters migrate once. */
export async function migrateToLatest(db: Kysely<DB>, schema?: string): Promise<string[]> {
  // Kysely looks for its bookkeeping tables in every visible schema unless told which one; another
  // app's (or another Portcullis's) tables in a neighbouring schema would then be mistaken for ours.
  const target = schema ?? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(target ? { migrationTableSchema: target } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
