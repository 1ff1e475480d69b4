import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkResource, formatPolicyTestReport, loadPolicies, loadPolicyTestSuites, runPolicyTests } from './index.js';

// The policies/ directory at the repository root, wherever the tests are started from.
const policiesDir = join(fileURLToPath(new URL('../../', import.meta.url)), 'policies');

describe('shipped policies', () => {
  it('load without problems and cover the admin API and decision API resource kinds', async () => {
    const set = await loadPolicies(policiesDir);
    assert.deepEqual([...set.policies.keys()].sort(), ['admin:audit-event', 'admin:user', 'portcullis:authz']);
  });

  it('pass their shipped tests', async () => {
    const set = await loadPolicies(policiesDir);
    const suites = await loadPolicyTestSuites(join(policiesDir, 'tests'));
    assert.ok(suites.some((s) => s.file.endsWith('portcullis-admin.test.yaml')));
    const result = runPolicyTests(set, suites, { nowMs: Date.parse('2026-01-01T00:00:00Z') });
    assert.deepEqual(result.failed, [], formatPolicyTestReport(result));
    assert.ok(result.passed >= 39, `only ${result.passed} expectations ran`);
  });

  it('refuse a security analyst every user action that changes state', async () => {
    const set = await loadPolicies(policiesDir);
    const decisions = checkResource(set, {
      principal: { id: 'a', roles: ['security-analyst'] },
      resource: { kind: 'admin:user', id: 'u1' },
      actions: ['update-roles', 'lock', 'unlock', 'revoke-sessions'],
      request: { timeMs: 0 },
    });
    assert.deepEqual(Object.values(decisions).map((d) => d.allow), [false, false, false, false]);
  });
});
