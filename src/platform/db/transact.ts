import type { Kysely } from 'kysely';
import type { DB } from './schema.js';

/** Runs `work` in one database transaction with stores bound to it; commits if it resolves, rolls back if it throws. */
export type Transact<Stores> = <T>(work: (stores: Stores) => Promise<T>) => Promise<T>;

/** Builds a Transact from a store factory; services receive only the narrow Stores type they declare. */
export function createTransact<Stores>(db: Kysely<DB>, bind: (tx: Kysely<DB>) => Stores): Transact<Stores> {
  return (work) => db.transaction().execute((tx) => work(bind(tx)));
}
