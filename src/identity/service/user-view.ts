import type { UserRecord } from '../store/user-store.js';

/** The `user` object of API.md. */
export interface UserView {
  id: string;
  email: string;
  name?: string;
  roles: string[];
  tenant?: string;
  mfaEnabled: boolean;
  createdAt: string;
}

/** Projects a stored account onto the public shape: never the hash, never lock internals. */
export function toUserView(user: UserRecord): UserView {
  const view: UserView = { id: user.id, email: user.email, roles: user.roles, mfaEnabled: user.mfaEnabled, createdAt: user.createdAt.toISOString() };
  if (user.name !== null) view.name = user.name;
  if (user.tenant !== null) view.tenant = user.tenant;
  return view;
}
