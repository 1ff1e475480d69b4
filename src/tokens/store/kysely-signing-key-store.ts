import { type Kysely, type Selectable, sql } from 'kysely';
import type { DB, SigningKeysTable } from '../../platform/db/schema.js';
import type { SigningKeyRecord, SigningKeyStore } from './signing-key-store.js';

const ROTATION_LOCK_KEY = 7_243_551_002;

function toRecord(row: Selectable<SigningKeysTable>): SigningKeyRecord {
  return { kid: row.kid, alg: row.alg, publicJwk: row.public_jwk, privateJwkSealed: row.private_jwk_sealed, createdAt: row.created_at, activatesAt: row.activates_at };
}

/** SigningKeyStore over Kysely; rotation is serialised by a transaction-scoped advisory lock. */
export function createKyselySigningKeyStore(db: Kysely<DB>): SigningKeyStore {
  const list = (executor: Kysely<DB>) =>
    executor.selectFrom('signing_keys').selectAll().orderBy('activates_at', 'asc').orderBy('kid', 'asc').execute().then((rows) => rows.map(toRecord));
  return {
    list: () => list(db),
    rotateLocked: (decide) =>
      db.transaction().execute(async (tx) => {
        await sql`select pg_advisory_xact_lock(${ROTATION_LOCK_KEY})`.execute(tx);
        const record = await decide(await list(tx));
        if (record) {
          await tx.insertInto('signing_keys').values({
            kid: record.kid, alg: record.alg, public_jwk: JSON.stringify(record.publicJwk),
            private_jwk_sealed: record.privateJwkSealed, created_at: record.createdAt, activates_at: record.activatesAt,
          }).execute();
        }
        return record;
      }),
  };
}
