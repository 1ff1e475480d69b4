/*
 * Threat: an attacker who can reach the API forges, replays or tampers with access tokens to be
 * taken for someone else, or to keep access after the session ended. Classic JWT attacks are
 * tried one by one: the unsecured `alg: none`, HMAC-with-the-public-key algorithm confusion,
 * unknown or missing key ids, key-choosing headers (`jku`, `x5u`, `x5c`, embedded `jwk`), a
 * payload altered after signing, wrong audience, issuer or `typ`, time-window abuse (expired,
 * not yet valid, a cache that outlives `exp`), oversized tokens and headers, and tokens of
 * sessions that were logged out or revoked for refresh-token reuse. Every refusal must be the
 * same 401 invalid-token problem with a `WWW-Authenticate: Bearer` challenge, so the response is
 * no oracle for which check failed; the real reason goes to metrics only.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTHeaderParameters, SignJWT } from 'jose';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, json, registerAndLogin, type TestApp } from '../fixtures/test-app.js';

const INVALID_TOKEN = 'https://portcullis.dev/problems/invalid-token';
const INVALID_REFRESH_TOKEN = 'https://portcullis.dev/problems/invalid-refresh-token';
// One request id for every refusal, so whole bodies can be compared byte for byte.
const SAME_ID = 'token-attack-probe';

const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const decodeSegment = (segment: string): Record<string, unknown> => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('access-token attacks on GET /v1/auth/whoami and /v1/auth/me', () => {
  let t: TestApp;
  let victim: Awaited<ReturnType<typeof registerAndLogin>>;
  let victimSid: string;
  let realKid: string;
  let realAlg: string;
  let realPrivateKey: CryptoKey;
  let realPublicJwk: JWK;
  /** The refusal body every bad token must produce (same request id), captured from a plain garbage token. */
  let referenceBody: string;
  const forgedTokens: string[] = [];

  before(async () => {
    t = await createTestApp();
    victim = await registerAndLogin(t.app);
    const who = await t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${victim.accessToken}` } });
    assert.equal(who.statusCode, 200);
    victimSid = json<{ sid: string }>(who).sid;
    const signing = await t.registry.keyRing.signingKey();
    realKid = signing.kid;
    realAlg = signing.alg;
    realPrivateKey = signing.privateKey;
    const published = t.registry.keyRing.publishedKeys().find((k) => k.kid === realKid);
    assert.ok(published, 'the signing key is published');
    realPublicJwk = published.publicJwk;
    const reference = await t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: 'Bearer garbage', 'x-request-id': SAME_ID } });
    assert.equal(reference.statusCode, 401);
    referenceBody = reference.body;
  });
  after(async () => { await t.close(); });

  const nowSeconds = () => Math.floor(t.clock.nowMs() / 1000);

  /** Every claim RFC 9068 and the verifier require, valid for the victim's session; `overrides` may change or (with undefined) drop any. */
  function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const now = nowSeconds();
    const base: Record<string, unknown> = {
      iss: t.registry.tokenOptions.issuer, aud: t.registry.tokenOptions.audience, sub: victim.userId, sid: victimSid,
      jti: `forged-${Math.random().toString(36).slice(2)}`, roles: ['user'], iat: now, nbf: now, exp: now + t.registry.tokenOptions.accessTtlSeconds,
    };
    for (const [key, value] of Object.entries(overrides)) {
      if (value === undefined) delete base[key];
      else base[key] = value;
    }
    return base;
  }

  /** Signs `payload` with `key` under exactly `header` (no defaults added). */
  async function sign(header: JWTHeaderParameters, payload: Record<string, unknown>, key: CryptoKey | Uint8Array = realPrivateKey): Promise<string> {
    const token = await new SignJWT(payload).setProtectedHeader(header).sign(key);
    forgedTokens.push(token);
    return token;
  }

  const realHeader = (extra: Partial<JWTHeaderParameters> = {}): JWTHeaderParameters => ({ alg: realAlg, typ: 'at+jwt', kid: realKid, ...extra });

  async function failureCounts(): Promise<Map<string, number>> {
    const { values } = await t.registry.metrics.tokenFailures.get();
    return new Map(values.map((v) => [String(v.labels.reason), v.value]));
  }

  /** Runs `attack` and asserts every refusal it caused was counted under one of `reasons` (the operator sees the true cause). */
  async function expectReasons(reasons: string[], attack: () => Promise<void>): Promise<void> {
    const before = await failureCounts();
    await attack();
    const after = await failureCounts();
    let total = 0;
    let expected = 0;
    for (const [reason, value] of after) {
      const delta = value - (before.get(reason) ?? 0);
      total += delta;
      if (reasons.includes(reason)) expected += delta;
    }
    assert.ok(total > 0, 'the attack was counted as a verification failure');
    assert.equal(expected, total, `every refusal was counted as ${reasons.join(' or ')}: ${JSON.stringify([...after].map(([r, v]) => [r, v - (before.get(r) ?? 0)]).filter(([, d]) => d !== 0))}`);
  }

  /** portcullis_verified_token_cache_total for one result, as /metrics reports it now. */
  async function cacheCount(result: 'hit' | 'miss'): Promise<number> {
    const m = new RegExp(`^portcullis_verified_token_cache_total\\{result="${result}"\\} (\\d+)`, 'm').exec((await t.app.inject({ url: '/metrics' })).body);
    return m ? Number(m[1]) : 0;
  }

  async function call(url: string, authorization: string | undefined): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { 'x-request-id': SAME_ID };
    if (authorization !== undefined) headers.authorization = authorization;
    return t.app.inject({ url, headers });
  }

  /** Asserts the one uniform refusal on whoami and me: 401, problem+json, invalid-token, a Bearer challenge, the reference body. */
  async function assertRefused(authorization: string | undefined, challenge: RegExp = /^Bearer error="invalid_token"$/): Promise<void> {
    for (const url of ['/v1/auth/whoami', '/v1/auth/me']) {
      const res = await call(url, authorization);
      assert.equal(res.statusCode, 401, `${url} refuses with 401 (got ${res.statusCode} ${res.body.slice(0, 200)})`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.match(String(res.headers['www-authenticate']), /^Bearer/);
      assert.match(String(res.headers['www-authenticate']), challenge);
      const body = json<{ type: string; status: number; requestId: string }>(res);
      assert.equal(body.type, INVALID_TOKEN);
      assert.equal(body.status, 401);
      assert.equal(body.requestId, SAME_ID);
      // No oracle: the body is byte-identical to every other refusal (and so is its shape minus requestId).
      assert.equal(res.body, referenceBody, `${url} answers with the same body for every reason`);
      const { requestId: _a, ...shape } = body;
      const { requestId: _b, ...referenceShape } = JSON.parse(referenceBody) as { requestId: string };
      assert.deepEqual(shape, referenceShape);
    }
  }

  it('accepts a control token hand-signed with the real key and every required claim (so each refusal below is caused by its one defect)', async () => {
    const token = await sign(realHeader(), claims());
    const res = await t.app.inject({ url: '/v1/auth/whoami', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(json<{ sub: string }>(res).sub, victim.userId);
  });

  it('refuses an unsecured token with alg none that names the real kid', async () => {
    await expectReasons(['algorithm', 'malformed'], async () => {
      const header = b64url({ alg: 'none', typ: 'at+jwt', kid: realKid });
      const payload = b64url(claims({ roles: ['admin'] }));
      for (const token of [`${header}.${payload}.`, `${header}.${payload}`, `${header}.${payload}.${b64url('x')}`]) {
        forgedTokens.push(token);
        await assertRefused(`Bearer ${token}`);
      }
      // Case variants some libraries once treated as "none" too.
      for (const alg of ['None', 'NONE', 'nOnE']) {
        const token = `${b64url({ alg, typ: 'at+jwt', kid: realKid })}.${payload}.`;
        forgedTokens.push(token);
        await assertRefused(`Bearer ${token}`);
      }
    });
  });

  it('refuses HS256 tokens whose HMAC secret is the server public key, as JWK JSON or as PEM (algorithm confusion)', async () => {
    await expectReasons(['algorithm'], async () => {
      const jwks = json<{ keys: JWK[] }>(await t.app.inject({ url: '/.well-known/jwks.json' }));
      const servedJwk = jwks.keys.find((k) => k.kid === realKid);
      assert.ok(servedJwk);
      const pem = createPublicKey({ key: realPublicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
      const secrets = [JSON.stringify(realPublicJwk), JSON.stringify(servedJwk), JSON.stringify(jwks), pem, pem.trim()];
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        for (const secret of secrets) {
          const token = await sign({ alg, typ: 'at+jwt', kid: realKid }, claims({ roles: ['admin'] }), new TextEncoder().encode(secret));
          await assertRefused(`Bearer ${token}`);
        }
      }
    });
  });

  it('refuses a token whose kid is unknown, including injection-shaped kids', async () => {
    await expectReasons(['unknown_kid'], async () => {
      for (const kid of ['no-such-key', `${realKid}x`, realKid.toUpperCase() === realKid ? realKid.toLowerCase() : realKid.toUpperCase(), "' OR 1=1 --", '../../../../etc/passwd', '__proto__', 'constructor']) {
        const token = await sign(realHeader({ kid }), claims());
        await assertRefused(`Bearer ${token}`);
      }
    });
  });

  it('refuses a token without a kid even when the real key signed it', async () => {
    await expectReasons(['unknown_kid'], async () => {
      const token = await sign({ alg: realAlg, typ: 'at+jwt' }, claims());
      await assertRefused(`Bearer ${token}`);
    });
  });

  it('refuses a token that names the real kid but was signed by an attacker key', async () => {
    await expectReasons(['signature'], async () => {
      const attacker = await generateKeyPair('ES256');
      const token = await sign(realHeader({ alg: 'ES256' }), claims({ roles: ['admin'] }), attacker.privateKey);
      await assertRefused(`Bearer ${token}`);
    });
  });

  it('refuses a real token whose payload was altered after signing (roles set to admin)', async () => {
    await expectReasons(['signature'], async () => {
      const [header, payload, signature] = victim.accessToken.split('.') as [string, string, string];
      const altered = { ...decodeSegment(payload), roles: ['admin'] };
      const token = `${header}.${b64url(altered)}.${signature}`;
      forgedTokens.push(token);
      await assertRefused(`Bearer ${token}`);
      // And the signature stripped off a genuine token.
      await assertRefused(`Bearer ${header}.${payload}.`);
    });
  });

  it('never serves a cached token\'s claims to another token with the same signature (the cache is looked up by the signature\'s tail)', async () => {
    const auth = `Bearer ${victim.accessToken}`;
    assert.equal((await call('/v1/auth/whoami', auth)).statusCode, 200);
    const hits = await cacheCount('hit');
    assert.equal((await call('/v1/auth/whoami', auth)).statusCode, 200);
    assert.equal(await cacheCount('hit'), hits + 1, 'the genuine token is in the cache');
    const [header, payload, signature] = victim.accessToken.split('.') as [string, string, string];
    const misses = await cacheCount('miss');
    await expectReasons(['signature'], async () => {
      for (const changed of [{ ...decodeSegment(payload), roles: ['admin'] }, { ...decodeSegment(payload), sub: 'someone-else' }]) {
        const token = `${header}.${b64url(changed)}.${signature}`;
        forgedTokens.push(token);
        await assertRefused(`Bearer ${token}`);
      }
    });
    // Two tokens, each tried on whoami and me: every lookup missed and went to a full verification.
    assert.equal(await cacheCount('miss'), misses + 4);
    assert.equal(await cacheCount('hit'), hits + 1);
  });

  it('refuses a token whose aud is not this audience', async () => {
    await expectReasons(['audience'], async () => {
      for (const aud of ['someone-else', [], ['someone-else'], `${t.registry.tokenOptions.audience} `]) {
        const token = await sign(realHeader(), claims({ aud }));
        await assertRefused(`Bearer ${token}`);
      }
    });
  });

  it('refuses a token whose iss is not this issuer', async () => {
    await expectReasons(['issuer'], async () => {
      for (const iss of ['https://evil.example', `${t.registry.tokenOptions.issuer}/`, t.registry.tokenOptions.issuer.toUpperCase()]) {
        const token = await sign(realHeader(), claims({ iss }));
        await assertRefused(`Bearer ${token}`);
      }
    });
  });

  it('refuses a token with typ JWT (or no typ) instead of at+jwt, even when the real key signed it', async () => {
    await expectReasons(['type'], async () => {
      for (const typ of ['JWT', 'jwt', 'application/jwt', 'id_token+jwt']) {
        await assertRefused(`Bearer ${await sign(realHeader({ typ }), claims())}`);
      }
      await assertRefused(`Bearer ${await sign({ alg: realAlg, kid: realKid }, claims())}`);
    });
  });

  it('refuses tokens whose jku, x5u, x5c or embedded jwk header would choose the verification key', async () => {
    await expectReasons(['forbidden_header'], async () => {
      const attacker = await generateKeyPair('ES256', { extractable: true });
      const attackerJwk = await exportJWK(attacker.publicKey);
      const headers: Array<Partial<JWTHeaderParameters>> = [
        { jku: 'https://attacker.example/jwks.json' },
        { x5u: 'https://attacker.example/cert.pem' },
        { x5c: ['MIIBszCCAVmgAwIBAgIUXXXX'] },
        { jwk: attackerJwk },
      ];
      for (const extra of headers) {
        // Signed by the attacker's own key (the key the header points to or embeds), with and without the real kid.
        await assertRefused(`Bearer ${await sign({ alg: 'ES256', typ: 'at+jwt', ...extra }, claims({ roles: ['admin'] }), attacker.privateKey)}`);
        await assertRefused(`Bearer ${await sign({ alg: 'ES256', typ: 'at+jwt', kid: realKid, ...extra }, claims({ roles: ['admin'] }), attacker.privateKey)}`);
        // Even the real key's signature does not make such a header acceptable.
        await assertRefused(`Bearer ${await sign(realHeader(extra), claims())}`);
      }
    });
  });

  it('refuses a token missing a required claim or carrying ill-typed roles', async () => {
    // A missing nbf is reported by jose under claim "nbf", which the verifier files as not_yet_valid.
    await expectReasons(['claims', 'not_yet_valid'], async () => {
      for (const drop of ['sub', 'sid', 'jti', 'exp', 'iat', 'nbf']) {
        await assertRefused(`Bearer ${await sign(realHeader(), claims({ [drop]: undefined }))}`);
      }
    });
    await expectReasons(['claims'], async () => {
      for (const roles of ['admin', [1], [null], { 0: 'admin' }]) {
        await assertRefused(`Bearer ${await sign(realHeader(), claims({ roles }))}`);
      }
    });
  });

  it('refuses a token whose nbf is an hour in the future (beyond the allowed skew)', async () => {
    await expectReasons(['not_yet_valid'], async () => {
      const now = nowSeconds();
      const token = await sign(realHeader(), claims({ nbf: now + 3600, exp: now + 3600 + t.registry.tokenOptions.accessTtlSeconds }));
      await assertRefused(`Bearer ${token}`);
    });
  });

  it('refuses a validly signed 20 KB token with 401, never 5xx', async () => {
    await expectReasons(['too_long'], async () => {
      const token = await sign(realHeader(), claims({ pad: 'x'.repeat(20 * 1024) }));
      assert.ok(token.length > 20 * 1024);
      await assertRefused(`Bearer ${token}`);
    });
  });

  it('refuses a 16 KB Authorization header itself (inject has no Node header limit), never 5xx', async () => {
    await expectReasons(['too_long'], async () => {
      const header = `Bearer ${'A'.repeat(16 * 1024)}`;
      await assertRefused(header);
      const dotted = `Bearer ${'A'.repeat(5000)}.${'B'.repeat(5000)}.${'C'.repeat(6000)}`;
      await assertRefused(dotted);
    });
  });

  it('refuses requests without the Bearer scheme with a bare Bearer challenge', async () => {
    await expectReasons(['missing'], async () => {
      const bare = /^Bearer$/;
      await assertRefused(undefined, bare);
      await assertRefused(victim.accessToken, bare);
      await assertRefused(`Basic ${Buffer.from(`${victim.email}:${victim.password}`).toString('base64')}`, bare);
      await assertRefused(`Token ${victim.accessToken}`, bare);
      await assertRefused(`Bearer${victim.accessToken}`, bare);
      await assertRefused('Bearer', bare);
      await assertRefused('Bearer    ', bare);
    });
  });

  it('never takes the access token from the query string', async () => {
    const res = await t.app.inject({ url: `/v1/auth/whoami?access_token=${victim.accessToken}`, headers: { 'x-request-id': SAME_ID } });
    assert.equal(res.statusCode, 401);
    assert.equal(res.body, referenceBody);
  });

  it('refuses the access token of a session after logout, on whoami and me', async () => {
    const s = await registerAndLogin(t.app);
    const auth = `Bearer ${s.accessToken}`;
    assert.equal((await call('/v1/auth/whoami', auth)).statusCode, 200);
    const logout = await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { authorization: auth }, payload: {} });
    assert.equal(logout.statusCode, 204, logout.body);
    await expectReasons(['revoked'], () => assertRefused(auth));
    // The refresh token of the logged-out session is dead too.
    const refresh = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: s.refreshToken } });
    assert.equal(refresh.statusCode, 401);
    assert.equal(json(refresh).type, INVALID_REFRESH_TOKEN);
  });

  it('ends the session on a logout that sends only the Bearer and no body (API.md: the body is optional)', async () => {
    for (const extra of [{}, { 'content-type': 'application/json' }]) {
      const s = await registerAndLogin(t.app);
      const auth = `Bearer ${s.accessToken}`;
      const logout = await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: { authorization: auth, ...extra } });
      assert.equal(logout.statusCode, 204, `logout without a body must succeed (got ${logout.statusCode} ${logout.body})`);
      await assertRefused(auth);
    }
  });

  it('refuses a token signed by the right key for a session revoked by refresh-token reuse', async () => {
    const s = await registerAndLogin(t.app);
    const sid = json<{ sid: string }>(await call('/v1/auth/whoami', `Bearer ${s.accessToken}`)).sid;
    const rotated = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: s.refreshToken } });
    assert.equal(rotated.statusCode, 200);
    const reuse = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: s.refreshToken } });
    assert.equal(reuse.statusCode, 401);
    const fresh = await t.registry.signAccessToken({ id: s.userId, roles: ['user'], tenant: null }, sid);
    forgedTokens.push(fresh);
    await expectReasons(['revoked'], async () => {
      await assertRefused(`Bearer ${fresh}`);
      await assertRefused(`Bearer ${json<{ accessToken: string }>(rotated).accessToken}`);
      await assertRefused(`Bearer ${s.accessToken}`);
    });
  });

  it('publishes no private key material in the JWKS', async () => {
    const res = await t.app.inject({ url: '/.well-known/jwks.json' });
    assert.equal(res.statusCode, 200);
    for (const key of json<{ keys: Array<Record<string, unknown>> }>(res).keys) {
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.ok(!(priv in key), `JWKS key ${String(key.kid)} has no "${priv}"`);
    }
  });

  it('refuses a token signed by the server itself once it expired (exp + skew passed)', async () => {
    const s = await registerAndLogin(t.app);
    const sid = json<{ sid: string }>(await call('/v1/auth/whoami', `Bearer ${s.accessToken}`)).sid;
    const token = await t.registry.signAccessToken({ id: s.userId, roles: ['user'], tenant: null }, sid);
    const { accessTtlSeconds, clockSkewSeconds } = t.registry.tokenOptions;
    t.clock.advanceMs((accessTtlSeconds + clockSkewSeconds + 1) * 1000);
    // Not used before the advance, so this is a fresh (uncached) verification.
    await expectReasons(['expired'], async () => {
      await assertRefused(`Bearer ${token}`);
      await assertRefused(`Bearer ${s.accessToken}`);
    });
  });

  it('does not let the verified-token cache outlive exp: a token accepted (and cached) is refused once its time is up', async () => {
    const s = await registerAndLogin(t.app);
    const auth = `Bearer ${s.accessToken}`;
    assert.equal((await call('/v1/auth/whoami', auth)).statusCode, 200);
    const hitsBefore = await cacheCount('hit');
    assert.equal((await call('/v1/auth/whoami', auth)).statusCode, 200);
    assert.equal(await cacheCount('hit'), hitsBefore + 1, 'the second use was served from the cache');
    const { accessTtlSeconds, clockSkewSeconds } = t.registry.tokenOptions;
    // Still inside the skew after exp: a fresh check accepts it, and the cache must not be stricter or more lenient.
    t.clock.advanceMs((accessTtlSeconds + clockSkewSeconds - 2) * 1000);
    assert.equal((await call('/v1/auth/whoami', auth)).statusCode, 200);
    t.clock.advanceMs(3000);
    await expectReasons(['expired'], () => assertRefused(auth));
  });

  it('counts every refusal in portcullis_token_verification_failures_total by reason, without token material', async () => {
    const res = await t.app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const counts = new Map<string, number>();
    for (const m of res.body.matchAll(/^portcullis_token_verification_failures_total\{reason="([a-z_]+)"\} (\d+)$/gm)) counts.set(m[1]!, Number(m[2]));
    for (const reason of ['missing', 'malformed', 'algorithm', 'unknown_kid', 'signature', 'expired', 'not_yet_valid', 'issuer', 'audience', 'type', 'forbidden_header', 'too_long', 'claims', 'revoked']) {
      assert.ok((counts.get(reason) ?? 0) >= 1, `reason="${reason}" was counted (have ${JSON.stringify([...counts])})`);
    }
    for (const token of [victim.accessToken, ...forgedTokens]) assert.ok(!res.body.includes(token.split('.')[1] ?? token), 'no token material in metrics');
  });

  it('writes no access token, forged or real, to the log', async () => {
    const logged = t.logLines.map((line) => JSON.stringify(line));
    for (const token of [victim.accessToken, ...forgedTokens]) {
      const signature = token.split('.')[2];
      for (const line of logged) {
        assert.ok(!line.includes(token), 'no whole token in the log');
        if (signature && signature.length > 20) assert.ok(!line.includes(signature), 'no token signature in the log');
      }
    }
    assert.ok(t.logLines.some((line) => line.reason === 'expired'), 'the real reason of a refusal is logged for operators');
  });

  /** Sends one raw HTTP/1.1 request to the listening app and returns what came back before the socket closed. */
  async function rawRequest(authorization: string): Promise<{ status: number; contentType: string | undefined; body: string }> {
    const address = t.app.server.address() as AddressInfo | null;
    if (!address) await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        data += chunk;
        // Keep-alive responses do not close the socket: stop once the whole body is in.
        const split = data.indexOf('\r\n\r\n');
        const length = /\r\ncontent-length: *(\d+)/i.exec(data.slice(0, split));
        if (split >= 0 && length && Buffer.byteLength(data.slice(split + 4)) >= Number(length[1])) socket.end();
      });
      socket.on('error', (error: NodeJS.ErrnoException) => (data ? resolve(data) : reject(error)));
      socket.on('close', () => resolve(data));
      socket.write(`GET /v1/auth/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\n\r\n`);
    });
    const split = raw.indexOf('\r\n\r\n');
    const head = raw.slice(0, split);
    return {
      status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
      contentType: /\r\ncontent-type: *([^\r]+)/i.exec(head)?.[1],
      body: raw.slice(split + 4),
    };
  }

  it('refuses headers over 16 KB on a real listener (Node limit) with 431, never 5xx, and lets the app refuse a 15 KB one with 401', async () => {
    const huge = await rawRequest(`Bearer ${'A'.repeat(17 * 1024)}`);
    assert.equal(huge.status, 431, `a 17 KB header is refused as too large (got ${huge.status})`);
    const big = await rawRequest(`Bearer ${'A'.repeat(15 * 1024)}`);
    assert.equal(big.status, 401);
    assert.match(String(big.contentType), /^application\/problem\+json/);
    assert.equal(JSON.parse(big.body).type, INVALID_TOKEN);
  });

  it('renders the 431 of an oversized header as problem+json like every other error (API.md: errors are RFC 9457)', async () => {
    const res = await rawRequest(`Bearer ${'A'.repeat(17 * 1024)}`);
    assert.equal(res.status, 431);
    assert.match(String(res.contentType), /^application\/problem\+json/, `content-type was ${res.contentType}, body ${res.body}`);
    assert.equal(JSON.parse(res.body).type, 'https://portcullis.dev/problems/headers-too-large');
  });
});
