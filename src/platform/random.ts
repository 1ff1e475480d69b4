import { randomBytes } from 'node:crypto';

/** Source of cryptographically secure randomness; injectable so tests can be exact. */
export interface Random {
  /** `length` bytes from a CSPRNG. */
  bytes(length: number): Buffer;
}

/** node:crypto's CSPRNG. */
export const secureRandom: Random = { bytes: (length) => randomBytes(length) };
