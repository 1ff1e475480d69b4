/**
 * Contract of SigningKeyStore over every SQL target. rotateLocked is the race-safe primitive
 * behind key rotation: several instances may decide to rotate at once, and the lock must let
 * each decision see the ring as the previous holder left it, so one rotation happens, not five.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Database } from '../../src/platform/db/database.js';
import { createKyselySigningKeyStore } from '../../src/tokens/index.js';
import type { SigningKeyRecord } from '../../src/tokens/store/signing-key-store.js';
import { databaseTargets } from '../fixtures/database.js';

const T0 = Date.parse('2026-07-08T09:10:11.321Z');
const at = (ms: number) => new Date(T0 + ms);

function keyRecord(kid: string, activatesAtMs: number, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  return {
    kid,
    alg: 'ES256',
    publicJwk: { kty: 'EC', crv: 'P-256', x: randomBytes(32).toString('base64url'), y: randomBytes(32).toString('base64url'), kid, use: 'sig', alg: 'ES256' },
    privateJwkSealed: `sealed.${randomBytes(24).toString('base64url')}`,
    createdAt: at(0),
    activatesAt: at(activatesAtMs),
    ...overrides,
  };
}

for (const target of databaseTargets()) {
  describe(`SigningKeyStore contract on ${target.name}`, () => {
    let database: Database;
    before(async () => { database = await target.open(); });
    after(async () => { await database.close(); });

    /** Keys whose kid starts with `prefix`, so tests sharing the database stay independent. */
    async function keysWith(prefix: string): Promise<SigningKeyRecord[]> {
      return (await createKyselySigningKeyStore(database.db).list()).filter((k) => k.kid.startsWith(prefix));
    }

    it('inserts the record decide returns, returns it, and lists it with every field unchanged', async () => {
      const store = createKyselySigningKeyStore(database.db);
      const prefix = `insert-${randomBytes(4).toString('hex')}-`;
      const record = keyRecord(`${prefix}a`, 600_000, { alg: 'EdDSA', publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'abc', nested: { n: [1, 'two', null] } } });
      assert.deepEqual(await store.rotateLocked(async () => record), record);
      assert.deepEqual(await keysWith(prefix), [record]);
    });

    it('hands decide the current ring, the same list() returns', async () => {
      const store = createKyselySigningKeyStore(database.db);
      await store.rotateLocked(async () => keyRecord(`seen-${randomBytes(4).toString('hex')}`, 1));
      let seen: SigningKeyRecord[] | undefined;
      await store.rotateLocked(async (current) => { seen = current; return undefined; });
      assert.deepEqual(seen, await store.list());
      assert.ok((seen ?? []).length > 0);
    });

    it('inserts nothing and returns undefined when decide returns undefined', async () => {
      const store = createKyselySigningKeyStore(database.db);
      const ring = await store.list();
      assert.equal(await store.rotateLocked(async () => undefined), undefined);
      assert.deepEqual(await store.list(), ring);
    });

    it('inserts nothing and rethrows when decide throws', async () => {
      const store = createKyselySigningKeyStore(database.db);
      const ring = await store.list();
      await assert.rejects(store.rotateLocked(async () => { throw new Error('decide failed'); }), /decide failed/);
      assert.deepEqual(await store.list(), ring);
    });

    it('lists keys by activation time, oldest first, then by kid', async () => {
      const store = createKyselySigningKeyStore(database.db);
      const prefix = `order-${randomBytes(4).toString('hex')}-`;
      const late = keyRecord(`${prefix}a-late`, 3_000);
      const early = keyRecord(`${prefix}z-early`, 1_000, { createdAt: at(5_000) });
      const tieB = keyRecord(`${prefix}m-tie-b`, 2_000);
      const tieA = keyRecord(`${prefix}m-tie-a`, 2_000);
      // Inserted out of order on purpose: neither insertion order nor created_at may decide the listing.
      for (const record of [late, tieB, early, tieA]) await store.rotateLocked(async () => record);
      assert.deepEqual(await keysWith(prefix), [early, tieA, tieB, late]);
    });

    it('inserts exactly one key when 5 rotations race and each inserts only if the ring lacks one', async () => {
      const store = createKyselySigningKeyStore(database.db);
      const prefix = `race-${randomBytes(4).toString('hex')}-`;
      let decisions = 0;
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => store.rotateLocked(async (current) => {
        decisions += 1;
        // Widen the window: without the lock every caller would read the empty ring before anyone inserts.
        await delay(25);
        return current.some((k) => k.kid.startsWith(prefix)) ? undefined : keyRecord(`${prefix}${i}`, 0);
      })));
      assert.equal(decisions, 5);
      const inserted = results.filter((r): r is SigningKeyRecord => r !== undefined);
      assert.equal(inserted.length, 1);
      assert.deepEqual(await keysWith(prefix), inserted);
    });
  });
}
