/**
 * A server started with a master key other than the one that sealed the stored signing keys
 * (an instance deployed with the wrong secret, a data directory copied without its key) must
 * refuse to start with a message that says why, not start and answer 500 at the first login.
 * Embedded PGlite: the same check runs on PostgreSQL, where the key ring is shared.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, runCli, startServer } from '../fixtures/server-process.js';

const TIMEOUT_MS = 180_000;

describe('master key that cannot open the stored signing keys', { timeout: TIMEOUT_MS }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-master-key-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serve exits 78 with a message naming the key; the right key then serves logins', async () => {
    const port = String(await freePort());
    const original = { PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_MASTER_KEY: randomBytes(32).toString('base64'), PORTCULLIS_PORT: port, PORTCULLIS_LOG_LEVEL: 'warn' };
    const created = await runCli(['keys', 'rotate'], original, 120_000);
    assert.equal(created.code, 0, created.stderr);

    const wrong = { ...original, PORTCULLIS_MASTER_KEY: randomBytes(32).toString('base64') };
    const refused = await runCli(['serve'], wrong, 120_000);
    assert.equal(refused.code, 78, `expected EX_CONFIG\n${refused.stdout}\n${refused.stderr}`);
    assert.match(refused.stderr, /the master key does not open the stored signing key [\w-]+/);
    // The refusal names the key, never key material.
    assert.doesNotMatch(refused.stderr + refused.stdout, new RegExp(wrong.PORTCULLIS_MASTER_KEY.slice(0, 12).replace(/[+/]/g, '\\$&')));

    // The refused start changed nothing: with the right key the same ring signs tokens.
    const server = await startServer({ PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_MASTER_KEY: original.PORTCULLIS_MASTER_KEY }, 120_000);
    try {
      const account = { email: 'master-key@example.com', password: 'violet kettle drums at midnight' };
      const post = (path: string) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(account) });
      assert.equal((await post('/v1/auth/register')).status, 201);
      const login = await post('/v1/auth/login');
      assert.equal(login.status, 200, server.output());
      const { accessToken } = (await login.json()) as { accessToken: string };
      const whoami = await fetch(`${server.url}/v1/auth/whoami`, { headers: { authorization: `Bearer ${accessToken}` } });
      assert.equal(whoami.status, 200);
    } finally {
      await server.stop();
    }
  });
});
