import type { Clock } from './clock.js';
import type { Random } from './random.js';

/** Generates opaque ids. */
export interface IdGenerator {
  /** A new id: sortable by creation time (48-bit ms prefix) followed by 80 random bits, base32 (ULID alphabet). */
  next(): string;
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** ULID-shaped ids from an injected clock and randomness, so ids sort by time and tests stay deterministic. */
export function createIdGenerator(clock: Clock, random: Random): IdGenerator {
  return {
    next() {
      let time = clock.nowMs();
      let out = '';
      for (let i = 0; i < 10; i++) {
        out = ALPHABET[time % 32] + out;
        time = Math.floor(time / 32);
      }
      const bytes = random.bytes(10);
      // 80 bits -> 16 base32 characters, 5 bits at a time.
      let bits = 0;
      let value = 0;
      for (const byte of bytes) {
        value = (value << 8) | byte;
        bits += 8;
        while (bits >= 5) {
          out += ALPHABET[(value >>> (bits - 5)) & 31];
          bits -= 5;
        }
        value &= (1 << bits) - 1;
      }
      return out;
    },
  };
}
