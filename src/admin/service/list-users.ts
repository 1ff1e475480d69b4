import { z } from 'zod';
import type { RequestContext } from '../../platform/request-context.js';
import type { UserStore } from '../../identity/index.js';
import type { AdminCaller } from './admin-types.js';
import { toAdminUserView, type AdminUserView } from './admin-user-view.js';
import { ADMIN_USER, type AdminAuthorizer } from './authorize-admin.js';
import type { CursorCodec } from './cursor-codec.js';

/** Dependencies of listUsers. */
export interface ListUsersDeps {
  users: Pick<UserStore, 'listUsers'>;
  authorizer: AdminAuthorizer;
  cursors: CursorCodec;
}

/** GET /v1/admin/users query after validation. */
export interface UserListQuery {
  query?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

/** A page of accounts. */
export interface UserPage { items: AdminUserView[]; nextCursor: string | null }

// Where the previous page ended: created_at in epoch ms and the id (ties are broken by id).
const userPosition = z.strictObject({ t: z.number().int().min(0).max(8_640_000_000_000_000), i: z.string().min(1).max(64) });

/**
 * GET /v1/admin/users: accounts newest first, searched by email or name, one keyset page at a
 * time. A tenant-scoped admin's listing is filtered to its tenant in the query itself, so no
 * other tenant's row is ever read, let alone returned.
 */
export function createListUsers(deps: ListUsersDeps) {
  return async function listUsers(caller: AdminCaller, input: UserListQuery, ctx: RequestContext): Promise<UserPage> {
    await deps.authorizer.requireInScope(caller, ADMIN_USER, 'all', 'list', ctx);
    const search = input.query?.normalize('NFKC').trim() || undefined;
    const filters = { tenant: caller.tenant, query: search };
    const after = input.cursor === undefined ? undefined : deps.cursors.decode('users', filters, input.cursor, userPosition);
    const rows = await deps.users.listUsers({
      tenant: caller.tenant, search, limit: input.limit + 1,
      after: after && { createdAt: new Date(after.t), id: after.i },
    });
    const page = rows.slice(0, input.limit);
    const last = page.at(-1);
    return {
      items: page.map(toAdminUserView),
      nextCursor: rows.length > input.limit && last ? deps.cursors.encode('users', filters, { t: last.createdAt.getTime(), i: last.id }) : null,
    };
  };
}
