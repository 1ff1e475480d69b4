/**
 * Embedded mode end to end, in process: failed logins are audited, sealed, relayed to the
 * in-process queue and counted by the detection handler before the relay moves on, so
 * `failureCounts` sees them as soon as a seal-and-relay pass has returned.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestApp, registerAndLogin, type TestApp } from '../../test/fixtures/test-app.js';

describe('failure statistics in embedded mode', () => {
  let t: TestApp;
  before(async () => { t = await createTestApp(); });
  after(() => t.close());

  it('counts failed logins per IP and per account once their audit events are relayed', async () => {
    const ip = '192.0.2.44';
    const { email, userId } = await registerAndLogin(t.app, undefined, undefined, ip);
    const fail = (login: string) => t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: login, password: 'not the password at all' }, remoteAddress: ip });
    for (const login of [email, email, 'nobody-here@example.com']) assert.equal((await fail(login)).statusCode, 401);
    await t.registry.sealAuditChain();
    const sinceMs = t.clock.nowMs() - 60_000;
    const byIp = await t.registry.failureCounts({ dimension: 'ip', key: ip, sinceMs });
    assert.deepEqual(byIp.byKind, { login_failed: 3, rate_limited: 0, token_reuse: 0 });
    assert.equal((await t.registry.failureCounts({ dimension: 'account', key: userId, sinceMs })).total, 2);
    assert.equal((await t.registry.failureCounts({ dimension: 'ip', key: '192.0.2.45', sinceMs })).total, 0);
  });

  it('reports deliveries in the metrics', async () => {
    const text = await t.registry.metrics.registry.metrics();
    assert.match(text, /portcullis_jobs_processed_total\{name="auth\.login\.failed",outcome="succeeded"\} 3/);
    assert.match(text, /portcullis_job_queue_lag_seconds_count \d+/);
  });
});

describe('shutdown while a handler keeps failing (embedded)', () => {
  it('closes within the grace period, and the held event is counted after the restart', async () => {
    // Retries 10 minutes apart: without the release the last relay would wait for them.
    const env = { PORTCULLIS_QUEUE__BACKOFF_MS: '600000', PORTCULLIS_HTTP__SHUTDOWN_GRACE_MS: '4000' };
    const masterKey = randomBytes(32);
    const first = await createTestApp({ env, masterKey });
    const database = first.database;
    try {
      const ip = '192.0.2.61';
      const { email } = await registerAndLogin(first.app, undefined, undefined, ip);
      // Fault: the handler's table disappears, so every delivery fails and waits for a retry.
      await sql`alter table failure_stats rename to failure_stats_away`.execute(database.db);
      const failed = await first.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password: 'not the password at all' }, remoteAddress: ip });
      assert.equal(failed.statusCode, 401);
      const started = performance.now();
      await first.app.close();
      await first.registry.close();
      const closeMs = performance.now() - started;
      assert.ok(closeMs < 4_000, `close took ${closeMs.toFixed(0)} ms, past the 4 s grace`);

      await sql`alter table failure_stats_away rename to failure_stats`.execute(database.db);
      const second = await createTestApp({ env, database, masterKey });
      try {
        await second.registry.sealAuditChain();
        const counts = await second.registry.failureCounts({ dimension: 'ip', key: ip, sinceMs: second.clock.nowMs() - 60_000 });
        assert.equal(counts.byKind.login_failed, 1);
      } finally {
        await second.close();
      }
    } finally {
      await database.close();
    }
  });
});
