import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { GOOD_PASSWORD } from '../fixtures/test-app.js';
import { runCli, startServer } from '../fixtures/server-process.js';

describe('embedded mode as a real process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('starts on PGlite with a generated 0600 master key, and SIGTERM drains in-flight writes without losing one', async () => {
    const server = await startServer({ PORTCULLIS_DATA_DIR: dir, PORTCULLIS_LOGIN_PROTECTION__REGISTRATION__POINTS: '100' });
    assert.equal(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
    assert.match(server.output(), /generated a development master key/);

    const emails = Array.from({ length: 12 }, (_, i) => `drain-${i}@example.com`);
    const inFlight = emails.map((email) => fetch(`${server.url}/v1/auth/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: GOOD_PASSWORD }),
    }).then((r) => r.status, () => 'connection-error' as const));
    // Stop as soon as the first write is acknowledged: the rest were sent with it and are queued
    // behind argon2 (4 pool threads, ~20 ms each), so they are in flight when SIGTERM lands.
    await Promise.race(inFlight);
    const code = await server.stop();
    const statuses = await Promise.all(inFlight);
    assert.equal(code, 0, server.output());
    const acknowledged = emails.filter((_, i) => statuses[i] === 201);
    assert.ok(acknowledged.length > 0, `some registrations completed: ${statuses.join(',')}`);
    for (const status of statuses) assert.ok(status === 201 || status === 503 || status === 'connection-error', `unexpected ${status}`);

    // Every acknowledged write is there after restart, each with its audit event, and the chain verifies.
    const verify = await runCli(['audit', 'verify'], { PORTCULLIS_DATA_DIR: dir, PORTCULLIS_LOG_LEVEL: 'warn' });
    assert.equal(verify.code, 0, verify.stderr);
    const result = JSON.parse(verify.stdout) as { ok: boolean; checked: number };
    assert.equal(result.ok, true);
    assert.ok(result.checked >= acknowledged.length);

    const again = await startServer({ PORTCULLIS_DATA_DIR: dir });
    try {
      for (const email of acknowledged) {
        const res = await fetch(`${again.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: GOOD_PASSWORD }) });
        assert.equal(res.status, 200, `${email} survived the shutdown`);
      }
    } finally {
      assert.equal(await again.stop(), 0);
    }
  });

  it('refuses to start in production without a master key, naming the setting', async () => {
    const res = await runCli(['serve'], { PORTCULLIS_DATA_DIR: dir, NODE_ENV: 'production', PORTCULLIS_MASTER_KEY: '', PORTCULLIS_PORT: '0' });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /PORTCULLIS_MASTER_KEY/);
  });

  it('stops with one message naming every invalid setting', async () => {
    const res = await runCli(['serve'], { PORTCULLIS_DATA_DIR: dir, PORTCULLIS_PORT: 'eighty', PORTCULLIS_TOKENS__ALGORITHM: 'none' });
    assert.equal(res.code, 78);
    assert.match(res.stderr, /port \(PORTCULLIS_PORT\)/);
    assert.match(res.stderr, /tokens\.algorithm \(PORTCULLIS_TOKENS__ALGORITHM\)/);
  });
});
