import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';
import { ProblemError } from '../../platform/errors/problem.js';
import { adminProblems } from '../problems.js';

// HKDF info: the cursor key is used for nothing else, and no other key derived from the master key equals it.
const CURSOR_KEY_INFO = 'portcullis/admin/pagination-cursor/v1';
// A cursor holds a few small fields; anything longer is not one of ours, and is refused before any work.
const CURSOR_SHAPE = /^[A-Za-z0-9_-]{1,400}\.[A-Za-z0-9_-]{43}$/;

/** The filters a cursor was issued for; a cursor only continues the very query that produced it. */
export type CursorFilters = Readonly<Record<string, string | undefined>>;

/** Opaque, authenticated pagination cursors. */
export interface CursorCodec {
  /** `base64url(json).base64url(HMAC-SHA256)`, binding the listing, its filters and the position. */
  encode(listing: string, filters: CursorFilters, position: Record<string, string | number>): string;
  /** The position, or a 400 INVALID_CURSOR for anything forged, truncated, altered or issued for other filters. */
  decode<T>(listing: string, filters: CursorFilters, cursor: string, position: z.ZodType<T>): T;
}

// Canonical: keys sorted, absent filters dropped, so the same query always has the same digest.
function filterDigest(listing: string, filters: CursorFilters): string {
  const entries = Object.entries(filters).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify([listing, entries])).digest('base64url').slice(0, 22);
}

function invalid(): ProblemError {
  return new ProblemError(adminProblems.INVALID_CURSOR, { detail: 'Start again without a cursor, or pass the nextCursor of the same query unchanged.' });
}

/** Builds the codec with a key derived from the master key (HKDF-SHA256, RFC 5869). */
export function createCursorCodec(masterKey: Buffer): CursorCodec {
  const key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), CURSOR_KEY_INFO, 32));
  const mac = (payload: string): string => createHmac('sha256', key).update(payload).digest('base64url');

  return {
    encode(listing, filters, position) {
      const payload = Buffer.from(JSON.stringify({ l: listing, f: filterDigest(listing, filters), p: position })).toString('base64url');
      return `${payload}.${mac(payload)}`;
    },

    decode(listing, filters, cursor, position) {
      if (!CURSOR_SHAPE.test(cursor)) throw invalid();
      const [payload, tag] = cursor.split('.') as [string, string];
      // Compared as canonical base64url strings: a decoder would accept several spellings of one tag.
      const expected = Buffer.from(mac(payload));
      const presented = Buffer.from(tag);
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw invalid();
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw invalid();
      }
      const body = parsed as { l?: unknown; f?: unknown; p?: unknown } | null;
      if (typeof body !== 'object' || body === null || body.l !== listing || body.f !== filterDigest(listing, filters)) throw invalid();
      const result = position.safeParse(body.p);
      if (!result.success) throw invalid();
      return result.data;
    },
  };
}
