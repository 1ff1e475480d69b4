import { createHash } from 'node:crypto';
import type { Random } from '../../platform/random.js';

/** 256 random bits, base64url (43 characters). */
export function newRefreshToken(random: Random): string {
  return random.bytes(32).toString('base64url');
}

/** Refresh tokens are stored only as SHA-256: a database leak yields nothing usable. High entropy makes a salt unnecessary. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Cheap shape check before any database work. */
export function isWellFormedRefreshToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}
