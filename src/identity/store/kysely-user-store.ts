import { type Kysely, type Selectable, sql } from 'kysely';
import type { DB, UsersTable } from '../../platform/db/schema.js';
import type { UserRecord, UserStore } from './user-store.js';

// Arbitrary constant naming the advisory lock that serialises role changes and account locks.
const ADMIN_ROSTER_LOCK_KEY = 7_243_551_002;

// LIKE treats %, _ and the escape character as syntax; a search for "50%" must mean those characters.
function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

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
    async findByIdForShare(id) {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).forShare().executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async listUsers({ tenant, search, after, limit }) {
      let query = db.selectFrom('users').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit);
      if (tenant !== undefined) query = query.where('tenant', '=', tenant);
      if (search) {
        const pattern = likeContains(search);
        query = query.where(sql<boolean>`(${sql.ref('email')} ilike ${pattern} escape '\\' or ${sql.ref('name')} ilike ${pattern} escape '\\')`);
      }
      if (after) query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.id)));
      return (await query.execute()).map(toRecord);
    },
    async setRoles(id, roles, at) {
      const result = await db.updateTable('users').set({ roles: JSON.stringify(roles), updated_at: at }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async setLocked(id, lockedAt, at) {
      // Conditional, so a repeated lock keeps the first lock time and reports no change.
      const result = await db.updateTable('users').set({ locked_at: lockedAt, updated_at: at })
        .where('id', '=', id).where('locked_at', lockedAt === null ? 'is not' : 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async lockAdminRoster() {
      await sql`select pg_advisory_xact_lock(${ADMIN_ROSTER_LOCK_KEY})`.execute(db);
    },
    async countActiveAdmins({ tenant, excludeId }) {
      // The predicate is written as in users_active_admins_idx so the partial index applies.
      let query = db.selectFrom('users').select((eb) => eb.fn.countAll<string>().as('count'))
        .where(sql<boolean>`roles @> '["admin"]'::jsonb and locked_at is null`)
        .where('id', '!=', excludeId);
      query = tenant === null
        ? query.where('tenant', 'is', null)
        : query.where((eb) => eb.or([eb('tenant', 'is', null), eb('tenant', '=', tenant)]));
      const { count } = await query.executeTakeFirstOrThrow();
      return Number(count);
    },
  };
}
