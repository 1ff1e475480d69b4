import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ServerProcess, startServer } from '../fixtures/server-process.js';

/*
 * Threat: a client that opens connections and sends headers (or a body) a byte at a time
 * ties up sockets for ever (slowloris). The server must cut it off after the header timeout,
 * and refuse oversized headers before they reach any handler.
 */
describe('slow and oversized clients against a real listener', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-slow-'));
  let server: ServerProcess;
  before(async () => {
    server = await startServer({ PORTCULLIS_DATA_DIR: dir, PORTCULLIS_HTTP__HEADERS_TIMEOUT_MS: '1500', PORTCULLIS_HTTP__REQUEST_TIMEOUT_MS: '3000' });
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('closes a connection whose headers trickle in past the header timeout', async () => {
    const started = Date.now();
    const { closedAfterMs, received } = await new Promise<{ closedAfterMs: number; received: string }>((resolve) => {
      const socket = connect(server.port, '127.0.0.1');
      let received = '';
      socket.on('data', (d) => { received += d.toString(); });
      socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n');
      const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 300);
      socket.on('close', () => { clearInterval(drip); resolve({ closedAfterMs: Date.now() - started, received }); });
      socket.on('error', () => undefined);
      setTimeout(() => socket.destroy(), 10_000);
    });
    assert.ok(closedAfterMs < 5_000, `closed after ${closedAfterMs} ms`);
    assert.match(received, /^HTTP\/1\.1 408/);
  });

  it('answers 431 to a 16 KiB header and keeps serving', async () => {
    const res = await fetch(`${server.url}/v1/auth/whoami`, { headers: { authorization: `Bearer ${'a'.repeat(20_000)}` } });
    assert.equal(res.status, 431);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });
});
