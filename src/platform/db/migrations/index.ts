import type { Migration } from 'kysely/migration';
import * as initial from './0001-initial.js';
import * as adminQueryIndexes from './0002-admin-query-indexes.js';
import * as auditSealer from './0003-audit-sealer.js';
import * as failureStats from './0004-failure-stats.js';
import * as auditQueryIndexes from './0005-audit-query-indexes.js';

/** Every migration, in order; names are never reused or edited once released. */
export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-admin-query-indexes': adminQueryIndexes,
  '0003-audit-sealer': auditSealer,
  '0004-failure-stats': failureStats,
  '0005-audit-query-indexes': auditQueryIndexes,
};
