import { availableParallelism } from 'node:os';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
// bcryptjs (pure JS, async in slices) rather than @node-rs/bcrypt, whose 2.0.0 platform binaries were
// never published; bcrypt only ever runs once per imported account, before the hash is upgraded.
import bcrypt from 'bcryptjs';

/** argon2id cost parameters (OWASP: 19 MiB, t=2, p=1). */
export interface Argon2Params { memoryCost: number; timeCost: number; parallelism: number }

/** OWASP Password Storage Cheat Sheet minimum for argon2id. */
export const OWASP_ARGON2ID: Argon2Params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** Hashes and verifies passwords off the event loop (libuv thread pool). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant-work verification; accepts argon2id hashes and imported bcrypt hashes. */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** Spends the same work as a real verify, for unknown accounts, so timing does not reveal them. */
  verifyDummy(password: string): Promise<void>;
  /** True when the hash is bcrypt or argon2 with other parameters, so it should be replaced after login. */
  needsRehash(passwordHash: string): boolean;
}

// @node-rs/argon2 exports Algorithm as a const enum, which isolatedModules cannot inline: Argon2id is 2.
const ARGON2ID = 2;

const BCRYPT_PREFIX = /^\$2[aby]\$\d{2}\$/;

/**
 * Runs at most `limit` jobs at once, queueing the rest in order. argon2 runs on the libuv pool,
 * but pool threads still compete with the event loop for the same cores: 4 concurrent hashes on
 * one core leave the loop a fifth of it. Capping hashes at the core count keeps the loop
 * responsive under a login burst; throughput is unchanged, since argon2 is CPU-bound anyway.
 */
function createConcurrencyLimit(limit: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async function limited<T>(job: () => Promise<T>): Promise<T> {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await job();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** Builds the hasher; the dummy hash is made once, with the live parameters, at start-up. */
export async function createPasswordHasher(params: Argon2Params = OWASP_ARGON2ID, maxConcurrent = availableParallelism()): Promise<PasswordHasher> {
  const options = { algorithm: ARGON2ID, ...params };
  const limited = createConcurrencyLimit(Math.max(1, maxConcurrent));
  const expectedPrefix = `$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$`;
  const dummyHash = await argon2Hash(`dummy-${Math.random()}`, options);
  return {
    hash: (password) => limited(() => argon2Hash(password, options)),
    async verify(passwordHash, password) {
      try {
        if (BCRYPT_PREFIX.test(passwordHash)) return await bcrypt.compare(password, passwordHash);
        return await limited(() => argon2Verify(passwordHash, password));
      } catch {
        // A corrupt stored hash is a failed login, never a 500 that tells the caller the account exists.
        return false;
      }
    },
    async verifyDummy(password) {
      await limited(() => argon2Verify(dummyHash, password)).catch(() => false);
    },
    needsRehash: (passwordHash) => !passwordHash.startsWith(expectedPrefix),
  };
}
