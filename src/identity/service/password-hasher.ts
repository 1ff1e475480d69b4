import { availableParallelism } from 'node:os';
// bcryptjs (pure JS, async in slices) rather than @node-rs/bcrypt, whose 2.0.0 platform binaries were
// never published; bcrypt only ever runs once per imported account, before the hash is upgraded.
import bcrypt from 'bcryptjs';
import { createArgon2WorkerPool } from './argon2-worker-pool.js';

/** argon2id cost parameters (OWASP: 19 MiB, t=2, p=1). */
export interface Argon2Params { memoryCost: number; timeCost: number; parallelism: number }

/** OWASP Password Storage Cheat Sheet minimum for argon2id. */
export const OWASP_ARGON2ID: Argon2Params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** Hashes and verifies passwords off the event loop (worker threads that yield the CPU to it). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant-work verification; accepts argon2id hashes and imported bcrypt hashes. */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** Spends the same work as a real verify, for unknown accounts, so timing does not reveal them. */
  verifyDummy(password: string): Promise<void>;
  /** True when the hash is bcrypt or argon2 with other parameters, so it should be replaced after login. */
  needsRehash(passwordHash: string): boolean;
  /** Stops the hashing threads. */
  close(): Promise<void>;
}

// @node-rs/argon2 exports Algorithm as a const enum, which isolatedModules cannot inline: Argon2id is 2.
const ARGON2ID = 2;

const BCRYPT_PREFIX = /^\$2[aby]\$\d{2}\$/;

/**
 * Builds the hasher; the dummy hash is made once, with the live parameters, at start-up. At most
 * `maxConcurrent` hashes run at once (one per core by default: argon2 is CPU-bound, so more
 * threads add no throughput, only contention), on threads at a lower priority than the event
 * loop, so a login burst does not stall every other request.
 */
export async function createPasswordHasher(params: Argon2Params = OWASP_ARGON2ID, maxConcurrent = availableParallelism()): Promise<PasswordHasher> {
  const options = { algorithm: ARGON2ID, ...params };
  const pool = createArgon2WorkerPool({ size: Math.max(1, maxConcurrent), nice: 10 });
  const expectedPrefix = `$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$`;
  let dummyHash: string;
  try {
    dummyHash = await pool.hash(`dummy-${Math.random()}`, options);
  } catch (error) {
    await pool.close();
    throw error;
  }
  return {
    hash: (password) => pool.hash(password, options),
    async verify(passwordHash, password) {
      try {
        if (BCRYPT_PREFIX.test(passwordHash)) return await bcrypt.compare(password, passwordHash);
        return await pool.verify(passwordHash, password);
      } catch {
        // A corrupt stored hash is a failed login, never a 500 that tells the caller the account exists.
        return false;
      }
    },
    async verifyDummy(password) {
      await pool.verify(dummyHash, password).catch(() => false);
    },
    needsRehash: (passwordHash) => !passwordHash.startsWith(expectedPrefix),
    close: () => pool.close(),
  };
}
