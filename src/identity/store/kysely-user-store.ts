import type { Kysely, Selectable } from 'kysely';
import type { DB, UsersTable } from '../../platform/db/schema.js';
import type { UserRecord, UserStore } from './user-store.js';

function toRecord(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    passwordHash: row.password_hash,
    roles: row.roles,
    tenant: row.tenant,
    mfaEnabled: row.mfa_enabled,
    lockedAt: row.locked_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** UserStore over Kysely (PGlite or PostgreSQL). */
export function createKyselyUserStore(db: Kysely<DB>): UserStore {
  return {
    async insert(user) {
      // ON CONFLICT instead of catching 23505: an error would abort the surrounding transaction.
      const inserted = await db.insertInto('users').values({
        id: user.id,
        email: user.email,
        name: user.name,
        password_hash: user.passwordHash,
        roles: JSON.stringify(user.roles),
        tenant: user.tenant,
        mfa_enabled: user.mfaEnabled,
        locked_at: user.lockedAt,
        created_at: user.createdAt,
        updated_at: user.updatedAt,
      }).onConflict((oc) => oc.column('email').doNothing()).returning('id').executeTakeFirst();
      return inserted ? 'created' : 'email_taken';
    },
    async findByEmail(email) {
      const row = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async findById(id) {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async updatePasswordHash(id, passwordHash, at) {
      await db.updateTable('users').set({ password_hash: passwordHash, updated_at: at }).where('id', '=', id).execute();
    },
  };
}
