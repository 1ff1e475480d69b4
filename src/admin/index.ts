/** Public surface of the admin module: the admin API and the bootstrap of the first administrator. */
export { adminRoutes, type AdminRoutesDeps } from './api/admin.routes.js';
export { adminProblems } from './problems.js';
export type { AdminCaller } from './service/admin-types.js';
export { createAdminServices, type AdminServices, type AdminServicesDeps } from './service/admin-services.js';
export { BOOTSTRAP_ADMIN_ROLES, type CreateAdminInput } from './service/create-admin.js';
export { toAdminUserView, type AdminUserView } from './service/admin-user-view.js';
