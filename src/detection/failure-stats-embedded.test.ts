/**
 * Embedded mode end to end, in process: failed logins are audited, sealed, relayed to the
 * in-process queue and counted by the detection handler before the relay moves on, so
 * `failureCounts` sees them as soon as a seal-and-relay pass has returned.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
