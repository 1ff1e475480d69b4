/** Public surface of the identity module. */
export { authRoutes } from './api/auth.routes.js';
export { userSchema } from './api/schemas.js';
export { identityProblems } from './problems.js';
export type { IdentityTxStores } from './service/identity-deps.js';
export { createLogin } from './service/login.js';
export { normalizeEmail } from './service/normalize-email.js';
export { createPasswordHasher, OWASP_ARGON2ID, type PasswordHasher } from './service/password-hasher.js';
export { createPasswordPolicy, loadCommonPasswords, normalizePassword } from './service/password-policy.js';
export { createRegisterUser, DEFAULT_ROLES } from './service/register-user.js';
export { toUserView } from './service/user-view.js';
export type { UserRecord, UserStore } from './store/user-store.js';
export { createKyselyUserStore } from './store/kysely-user-store.js';
