import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPolicyProblem, PolicyLoadError } from '../problems.js';
import { compilePolicies } from './compile-policies.js';
import { parsePolicyTestSuites } from './policy-test-suites.js';
import { formatPolicyTestReport, runPolicyTests } from './run-policy-tests.js';

const policySet = compilePolicies([{
  file: 'policies/document.yaml',
  text: `apiVersion: portcullis/v1
resourcePolicy:
  resource: document
  derivedRoles:
    - name: owner
      parentRoles: [user]
      condition: resource.attr.owner == principal.id
  rules:
    - name: owners-edit
      actions: [read, update]
      effect: allow
      derivedRoles: [owner]
    - name: office-hours
      actions: [update]
      effect: deny
      condition: request.time.getHours() < 8
    - name: frozen-documents
      actions: [update]
      effect: deny
      condition: resource.attr.frozen
`,
}]);

const suiteText = `name: documents
time: "2026-01-01T12:00:00Z"
principals:
  alice: { id: alice, roles: [user] }
  bob: { id: bob, roles: [user] }
resources:
  doc: { kind: document, id: d1, attr: { owner: alice, frozen: false } }
  legacy: { kind: document, id: d2, attr: { owner: alice } }
tests:
  - name: owners read and update their documents
    principal: alice
    resource: doc
    expected: { read: allow, update: allow }
  - name: nobody updates before office hours
    principal: alice
    resource: doc
    time: "2026-01-01T07:00:00Z"
    expected: { update: deny }
  - name: others read nothing
    principal: bob
    resource: doc
    expected: { read: allow, update: deny }
  - name: owners update legacy documents
    principal: alice
    resource: legacy
    expected: { update: allow }
`;

describe('policy tests', () => {
  it('counts met expectations and reports each unmet one with the rule that decided it', () => {
    const suites = parsePolicyTestSuites([{ file: 'policies/tests/documents.yaml', text: suiteText }]);
    const result = runPolicyTests(policySet, suites, { nowMs: 0 });
    assert.equal(result.passed, 4);
    assert.deepEqual(result.failed, [
      { suite: 'documents', file: 'policies/tests/documents.yaml', test: 'others read nothing', action: 'read', expected: 'allow', actual: 'deny', decidedBy: { allow: false, policy: 'document:default', rule: 'default-deny' } },
      {
        suite: 'documents', file: 'policies/tests/documents.yaml', test: 'owners update legacy documents', action: 'update', expected: 'allow', actual: 'deny',
        decidedBy: { allow: false, policy: 'document:default', rule: 'frozen-documents', error: 'condition failed: field not found: frozen' },
      },
    ]);
    assert.equal(formatPolicyTestReport(result), [
      'FAIL documents > others read nothing (policies/tests/documents.yaml): "read" expected allow, got deny (decided by document:default rule default-deny)',
      'FAIL documents > owners update legacy documents (policies/tests/documents.yaml): "update" expected allow, got deny (decided by document:default rule frozen-documents; condition failed: field not found: frozen)',
      'policy tests: 4 passed, 2 failed',
    ].join('\n'));
  });

  it('uses the runner time for tests whose suite and test name none', () => {
    const suites = parsePolicyTestSuites([{ file: 't.yaml', text: suiteText.replace('time: "2026-01-01T12:00:00Z"\n', '') }]);
    const early = runPolicyTests(policySet, suites, { nowMs: Date.parse('2026-01-01T06:00:00Z') });
    assert.ok(early.failed.some((f) => f.test === 'owners read and update their documents' && f.decidedBy.rule === 'office-hours'));
    const late = runPolicyTests(policySet, suites, { nowMs: Date.parse('2026-01-01T09:00:00Z') });
    assert.ok(!late.failed.some((f) => f.test === 'owners read and update their documents'));
  });

  it('rejects a suite referring to an unknown principal or resource, or repeating a test name', () => {
    const text = suiteText
      .replace('    principal: bob\n', '    principal: bobby\n')
      .replace('  - name: owners update legacy documents\n    principal: alice\n    resource: legacy', '  - name: owners read and update their documents\n    principal: alice\n    resource: legacyy');
    assert.throws(() => parsePolicyTestSuites([{ file: 'policies/tests/documents.yaml', text }]), (error: unknown) => {
      assert.ok(error instanceof PolicyLoadError);
      assert.deepEqual(error.problems.map(formatPolicyProblem), [
        'policies/tests/documents.yaml:20:16: tests[2].principal: unknown principal "bobby" (defined: alice, bob)',
        'policies/tests/documents.yaml:23:11: tests[3].name: test name "owners read and update their documents" is used twice in this suite',
        'policies/tests/documents.yaml:25:15: tests[3].resource: unknown resource "legacyy" (defined: doc, legacy)',
      ]);
      assert.match(error.message, /^the policy test set is not valid \(3 problems\):/);
      return true;
    });
  });

  it('rejects an expectation other than allow or deny, and a time without an offset', () => {
    const text = suiteText.replace('expected: { update: deny }', 'expected: { update: denied }').replace('time: "2026-01-01T07:00:00Z"', 'time: "2026-01-01T07:00:00"');
    assert.throws(() => parsePolicyTestSuites([{ file: 's.yaml', text }]), (error: unknown) => {
      assert.ok(error instanceof PolicyLoadError);
      assert.deepEqual(error.problems.map(formatPolicyProblem), [
        's.yaml:17:11: tests[1].time: Invalid ISO datetime',
        's.yaml:18:25: tests[1].expected.update: Invalid option: expected one of "allow"|"deny"',
      ]);
      return true;
    });
  });
});
