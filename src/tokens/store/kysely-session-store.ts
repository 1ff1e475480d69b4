import type { Kysely, Selectable } from 'kysely';
import type { DB, RefreshTokensTable, SessionsTable } from '../../platform/db/schema.js';
import type { RefreshTokenRecord, SessionRecord, SessionStore } from './session-store.js';

function toSession(row: Selectable<SessionsTable>): SessionRecord {
  return {
    id: row.id, userId: row.user_id, createdAt: row.created_at, lastSeenAt: row.last_seen_at, idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at, revokedAt: row.revoked_at, revokeReason: row.revoke_reason,
  };
}

function toToken(row: Selectable<RefreshTokensTable>): RefreshTokenRecord {
  return { tokenHash: row.token_hash, sessionId: row.session_id, userId: row.user_id, createdAt: row.created_at, expiresAt: row.expires_at, consumedAt: row.consumed_at };
}

/** SessionStore over Kysely; refresh-token consumption is one conditional UPDATE, so the database decides races. */
export function createKyselySessionStore(db: Kysely<DB>): SessionStore {
  return {
    async createSession(s) {
      await db.insertInto('sessions').values({
        id: s.id, user_id: s.userId, created_at: s.createdAt, last_seen_at: s.lastSeenAt, idle_expires_at: s.idleExpiresAt,
        absolute_expires_at: s.absoluteExpiresAt, revoked_at: s.revokedAt, revoke_reason: s.revokeReason,
      }).execute();
    },
    async findSession(id) {
      const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toSession(row) : undefined;
    },
    async touchSession(id, lastSeenAt, idleExpiresAt) {
      await db.updateTable('sessions').set({ last_seen_at: lastSeenAt, idle_expires_at: idleExpiresAt }).where('id', '=', id).execute();
    },
    async revokeSession(id, reason, at) {
      const result = await db.updateTable('sessions').set({ revoked_at: at, revoke_reason: reason })
        .where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async revokeUserSessions(userId, reason, at) {
      const rows = await db.updateTable('sessions').set({ revoked_at: at, revoke_reason: reason })
        .where('user_id', '=', userId).where('revoked_at', 'is', null).returning('id').execute();
      return rows.map((r) => r.id);
    },
    async listRevokedSince(since) {
      const rows = await db.selectFrom('sessions').select(['id', 'revoked_at']).where('revoked_at', '>=', since).execute();
      return rows.map((r) => ({ id: r.id, revokedAt: r.revoked_at as Date }));
    },
    async insertRefreshToken(t) {
      await db.insertInto('refresh_tokens').values({
        token_hash: t.tokenHash, session_id: t.sessionId, user_id: t.userId, created_at: t.createdAt, expires_at: t.expiresAt, consumed_at: t.consumedAt,
      }).execute();
    },
    async consumeRefreshToken(tokenHash, at) {
      const consumed = await db.updateTable('refresh_tokens').set({ consumed_at: at })
        .where('token_hash', '=', tokenHash).where('consumed_at', 'is', null).returningAll().executeTakeFirst();
      if (consumed) return { status: 'consumed', token: toToken(consumed) };
      const existing = await db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      return existing ? { status: 'spent', token: toToken(existing) } : { status: 'unknown' };
    },
  };
}
