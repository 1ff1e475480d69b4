import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestApp, json, registerAndLogin, type TestApp } from '../fixtures/test-app.js';

const DOCUMENT_POLICY = `apiVersion: portcullis/v1
resourcePolicy:
  resource: document
  version: default
  derivedRoles:
    - name: owner
      parentRoles: [user]
      condition: resource.attr.owner == principal.id
  rules:
    - name: owners-read
      actions: [read]
      effect: allow
      derivedRoles: [owner]
    - name: nobody-deletes-archived
      actions: [delete]
      effect: deny
      roles: ['*']
      condition: has(resource.attr.archived) && resource.attr.archived == true
    - name: owners-delete
      actions: [delete]
      effect: allow
      derivedRoles: [owner]
  tenantIsolation: true
`;

const QUESTION = {
  principal: { id: 'u1', roles: ['user'], attr: { tenant: 't1' } },
  resource: { kind: 'document', id: 'd9', attr: { owner: 'u1', tenant: 't1', archived: true } },
  actions: ['read', 'delete'],
};

describe('POST /v1/authz/check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-policies-'));
  let t: TestApp;
  let clientToken: string;
  let userToken: string;

  before(async () => {
    cpSync('policies', dir, { recursive: true });
    writeFileSync(join(dir, 'document.yaml'), DOCUMENT_POLICY);
    t = await createTestApp({ env: { PORTCULLIS_POLICY__DIR: dir } });
    const user = await registerAndLogin(t.app);
    userToken = user.accessToken;
    const client = await registerAndLogin(t.app);
    await t.database.db.updateTable('users').set({ roles: JSON.stringify(['authz-client']) }).where('id', '=', client.userId).execute();
    const refreshed = await t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken: client.refreshToken } });
    clientToken = json<{ accessToken: string }>(refreshed).accessToken;
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ask = (token: string, payload: unknown) =>
    t.app.inject({ method: 'POST', url: '/v1/authz/check', headers: { authorization: `Bearer ${token}` }, payload: payload as Record<string, unknown> });

  it('answers each action with the policy and rule that decided, an explicit deny winning', async () => {
    const res = await ask(clientToken, QUESTION);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(json(res), {
      results: {
        read: { allow: true, policy: 'document:default', rule: 'owners-read' },
        delete: { allow: false, policy: 'document:default', rule: 'nobody-deletes-archived' },
      },
    });
  });

  it('denies across tenants and by default', async () => {
    const res = await ask(clientToken, { ...QUESTION, resource: { ...QUESTION.resource, attr: { owner: 'u1', tenant: 't2' } } });
    assert.deepEqual(json<{ results: Record<string, { rule: string; allow: boolean }> }>(res).results.read, { allow: false, policy: 'document:default', rule: 'tenant-isolation' });
    const unknown = await ask(clientToken, { ...QUESTION, resource: { kind: 'invoice', id: 'i1' }, actions: ['read'] });
    assert.deepEqual(json(unknown), { results: { read: { allow: false, policy: 'none', rule: 'default-deny' } } });
  });

  it('refuses a caller who may not ask with 403, and a missing token with 401', async () => {
    const res = await ask(userToken, QUESTION);
    assert.equal(res.statusCode, 403);
    assert.equal(json(res).type, 'https://portcullis.dev/problems/forbidden');
    const anonymous = await t.app.inject({ method: 'POST', url: '/v1/authz/check', payload: QUESTION });
    assert.equal(anonymous.statusCode, 401);
  });

  it('refuses malformed questions with 400', async () => {
    for (const payload of [{ ...QUESTION, extra: 1 }, { ...QUESTION, actions: [] }, { ...QUESTION, actions: Array.from({ length: 51 }, (_, i) => `a${i}`) }, { ...QUESTION, principal: { id: 'u1' } }]) {
      const res = await ask(clientToken, payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 80));
    }
  });

  it('audits denials as policy.denied with the deciding rule, and the chain still verifies', async () => {
    await ask(clientToken, QUESTION);
    const events = await t.database.db.selectFrom('audit_events').selectAll().where('type', '=', 'policy.denied').orderBy('seq', 'desc').execute();
    assert.ok(events.length >= 1);
    const data = events[0]!.data as { resource: { kind: string }; decisions: Record<string, { rule: string }> };
    assert.equal(data.resource.kind, 'document');
    assert.equal(data.decisions.delete!.rule, 'nobody-deletes-archived');
    assert.equal((await t.registry.verifyAuditChain()).ok, true);
  });

  it('keeps the last good policy set when a reload finds a broken file, and counts the failure', async () => {
    writeFileSync(join(dir, 'broken.yaml'), 'apiVersion: portcullis/v1\nresourcePolicy: [not, a, mapping]\n');
    assert.equal(await t.registry.policies.reload(), false);
    const res = await ask(clientToken, QUESTION);
    assert.equal(json<{ results: Record<string, { allow: boolean }> }>(res).results.read!.allow, true, 'still deciding with the previous set');
    const metrics = await t.app.inject({ url: '/metrics' });
    assert.match(metrics.body, /portcullis_policy_reloads_total\{outcome="failed"\} 1/);
    rmSync(join(dir, 'broken.yaml'));
    assert.equal(await t.registry.policies.reload(), true);
  });
});
