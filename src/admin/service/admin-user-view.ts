import { toUserView, type UserRecord } from '../../identity/index.js';

/** The `user` of API.md plus `locked`, which only administrators see. */
export type AdminUserView = ReturnType<typeof toUserView> & { locked: boolean };

/** Projects an account for the admin API: never the hash, never the lock time itself. */
export function toAdminUserView(user: UserRecord): AdminUserView {
  return { ...toUserView(user), locked: user.lockedAt !== null };
}
