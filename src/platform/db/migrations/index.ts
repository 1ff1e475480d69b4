import type { Migration } from 'kysely/migration';
import * as initial from './0001-initial.js';

/** Every migration, in order; names are never reused or edited once released. */
export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
};
