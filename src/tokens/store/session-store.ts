/** A login session: the unit that logout and reuse detection revoke. */
export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: Date;
  lastSeenAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
  revokedAt: Date | null;
  revokeReason: string | null;
}

/** A refresh token as stored: only its SHA-256. */
export interface RefreshTokenRecord {
  tokenHash: string;
  sessionId: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  consumedAt: Date | null;
}

/** Outcome of consuming a refresh token. */
export type ConsumeResult =
  | { status: 'consumed'; token: RefreshTokenRecord }
  | { status: 'spent'; token: RefreshTokenRecord }
  | { status: 'unknown' };

/** Persistence of sessions and refresh tokens. */
export interface SessionStore {
  createSession(session: SessionRecord): Promise<void>;
  findSession(id: string): Promise<SessionRecord | undefined>;
  /** Extends the idle expiry after a refresh. */
  touchSession(id: string, lastSeenAt: Date, idleExpiresAt: Date): Promise<void>;
  /** Marks the session revoked (first reason wins); true when it was live before. */
  revokeSession(id: string, reason: string, at: Date): Promise<boolean>;
  /** Revokes every live session of a user; returns their ids. */
  revokeUserSessions(userId: string, reason: string, at: Date): Promise<string[]>;
  /** Sessions revoked at or after `since` (to rebuild the in-memory revocation set after a restart). */
  listRevokedSince(since: Date): Promise<Array<{ id: string; revokedAt: Date }>>;
  insertRefreshToken(token: RefreshTokenRecord): Promise<void>;
  /**
   * Atomically marks the token consumed. Under concurrent calls with the same hash exactly
   * one caller gets 'consumed'; every other gets 'spent' (that is reuse).
   */
  consumeRefreshToken(tokenHash: string, at: Date): Promise<ConsumeResult>;
}
