import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { createTestApp, json, registerAndLogin, type TestApp } from '../fixtures/test-app.js';

interface Jwks { keys: Array<{ kid: string; alg: string; kty: string; use: string; d?: string }> }

async function jwks(t: TestApp): Promise<Jwks> {
  const res = await t.app.inject({ url: '/.well-known/jwks.json' });
  assert.equal(res.statusCode, 200);
  return json<Jwks>(res);
}

describe('signing keys: publication, rotation and retirement', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { PORTCULLIS_TOKENS__KEY_ACTIVATION_DELAY_SECONDS: '600', PORTCULLIS_TOKENS__KEY_ROTATION_INTERVAL_DAYS: '0' } });
  });
  after(async () => { await t.close(); });

  it('publishes the signing key as a public ES256 JWK named by every token kid', async () => {
    const set = await jwks(t);
    assert.equal(set.keys.length, 1);
    const [key] = set.keys;
    assert.equal(key!.alg, 'ES256');
    assert.equal(key!.kty, 'EC');
    assert.equal(key!.use, 'sig');
    assert.equal(key!.d, undefined, 'never the private part');
    const s = await registerAndLogin(t.app);
    const header = decodeProtectedHeader(s.accessToken);
    assert.equal(header.kid, key!.kid);
    assert.equal(header.typ, 'at+jwt');
  });

  it('stores private keys only sealed under the master key', async () => {
    const rows = await t.database.db.selectFrom('signing_keys').select(['private_jwk_sealed', 'public_jwk']).execute();
    for (const row of rows) {
      assert.match(row.private_jwk_sealed, /^v1\./);
      assert.ok(!row.private_jwk_sealed.includes('"d"'));
      assert.equal((row.public_jwk as Record<string, unknown>).d, undefined);
    }
  });

  it('publishes a rotated key before it signs, then signs with it while old tokens still verify, then retires the old key', async () => {
    const before = await registerAndLogin(t.app);
    const oldKid = decodeProtectedHeader(before.accessToken).kid;
    const { kid: newKid, activatesAt } = await t.registry.keyRing.rotate();
    assert.equal(activatesAt.getTime(), t.clock.nowMs() + 600_000);
    assert.deepEqual((await jwks(t)).keys.map((k) => k.kid).sort(), [oldKid, newKid].sort(), 'published at once');

    const pending = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: before.refreshToken } });
    const pendingPair = json<{ accessToken: string; refreshToken: string }>(pending);
    assert.equal(decodeProtectedHeader(pendingPair.accessToken).kid, oldKid, 'does not sign before activation');

    t.clock.advanceMs(600_000);
    await t.registry.keyRing.refresh();
    const active = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: pendingPair.refreshToken } });
    const activePair = json<{ accessToken: string }>(active);
    assert.equal(decodeProtectedHeader(activePair.accessToken).kid, newKid, 'signs after activation');

    const oldStillValid = await t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${pendingPair.accessToken}` } });
    assert.equal(oldStillValid.statusCode, 200, 'tokens of the old key verify until they expire');

    // Old key retires one access-token lifetime plus skew after the new one activated.
    t.clock.advanceMs((600 + 30) * 1000 + 1);
    await t.registry.keyRing.refresh();
    assert.deepEqual((await jwks(t)).keys.map((k) => k.kid), [newKid]);
    const afterRetire = await t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${activePair.accessToken}` } });
    assert.equal(afterRetire.statusCode, 401, 'that token has expired by now as well');
  });

  it('rotates automatically when the interval has passed, publishing first', async () => {
    const auto = await createTestApp({ env: { PORTCULLIS_TOKENS__KEY_ROTATION_INTERVAL_DAYS: '1', PORTCULLIS_TOKENS__KEY_ACTIVATION_DELAY_SECONDS: '3600' } });
    try {
      assert.equal((await jwks(auto)).keys.length, 1);
      auto.clock.advanceMs(86_400_000 - 3_600_000 - 1000);
      await auto.registry.keyRing.refresh();
      assert.equal((await jwks(auto)).keys.length, 1, 'not yet');
      auto.clock.advanceMs(2000);
      await auto.registry.keyRing.refresh();
      await auto.registry.keyRing.refresh();
      assert.equal((await jwks(auto)).keys.length, 2, 'exactly one new key, published an hour before it signs');
    } finally {
      await auto.close();
    }
  });

  for (const [alg, kty] of [['EdDSA', 'OKP'], ['RS256', 'RSA']] as const) {
    it(`signs and verifies with ${alg} when configured`, async () => {
      const other = await createTestApp({ env: { PORTCULLIS_TOKENS__ALGORITHM: alg } });
      try {
        const set = await jwks(other);
        assert.equal(set.keys[0]!.alg, alg);
        assert.equal(set.keys[0]!.kty, kty);
        const s = await registerAndLogin(other.app);
        assert.equal(decodeProtectedHeader(s.accessToken).alg, alg);
        const who = await other.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${s.accessToken}` } });
        assert.equal(who.statusCode, 200);
      } finally {
        await other.close();
      }
    });
  }

  it('serves issuer metadata pointing at the JWKS', async () => {
    const res = await t.app.inject({ url: '/.well-known/openid-configuration' });
    assert.equal(res.statusCode, 200);
    const meta = json<{ issuer: string; jwks_uri: string; token_endpoint: string }>(res);
    assert.equal(meta.issuer, t.registry.tokenOptions.issuer);
    assert.equal(meta.jwks_uri, `${meta.issuer}/.well-known/jwks.json`);
    assert.equal(meta.token_endpoint, `${meta.issuer}/v1/auth/refresh`);
  });
});
