import type { AuditLog } from '../../audit/index.js';
import type { UserStore } from '../../identity/index.js';
import type { SessionStore } from '../../tokens/index.js';

/** Who calls the admin API, from the verified access token. */
export interface AdminCaller {
  sub: string;
  roles: readonly string[];
  /** Set for a tenant-scoped admin, who sees and changes only that tenant's accounts. */
  tenant?: string | undefined;
}

/** The stores an admin write needs inside one transaction. */
export interface AdminTxStores {
  users: Pick<UserStore, 'findById' | 'setRoles' | 'setLocked' | 'lockAdminRoster' | 'countActiveAdmins'>;
  sessions: Pick<SessionStore, 'revokeUserSessions'>;
  audit: AuditLog;
}

/** Publishes session revocations to every instance (tokens' SessionRevocations). */
export interface RevocationPublisher {
  publish(sessionId: string, revokedAtMs: number): Promise<void>;
}
