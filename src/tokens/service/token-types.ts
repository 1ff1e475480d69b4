import type { AuditLog } from '../../audit/index.js';
import type { SessionStore } from '../store/session-store.js';

/** What an access token says about its holder. */
export interface TokenSubject {
  id: string;
  roles: string[];
  tenant: string | null;
}

/** The token pair of API.md. */
export interface TokenPair {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
}

/** Verified access-token claims, as the rest of the app sees them. */
export interface AccessClaims {
  sub: string;
  sid: string;
  jti: string;
  roles: string[];
  tenant?: string;
  exp: number;
  iat: number;
}

/** Reads the account behind a session, fresh, so role changes and locks apply at the next refresh. */
export interface SubjectReader {
  findSubject(userId: string): Promise<(TokenSubject & { locked: boolean }) | undefined>;
}

/**
 * The stores a token transaction needs. Every read inside a transaction must go through
 * these: PGlite has one connection, so a query on the root handle would wait for ever.
 */
export interface TokenTxStores {
  sessions: SessionStore;
  audit: AuditLog;
  subjects: SubjectReader;
}

/** Token lifetimes and claims from config. */
export interface TokenOptions {
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  clockSkewSeconds: number;
  sessionIdleTtlSeconds: number;
  sessionAbsoluteTtlSeconds: number;
}
