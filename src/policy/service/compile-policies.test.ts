import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPolicyProblem, PolicyLoadError } from '../problems.js';
import { compilePolicies } from './compile-policies.js';

const valid = (kind: string) => `apiVersion: portcullis/v1
resourcePolicy:
  resource: ${kind}
  derivedRoles:
    - name: owner
      parentRoles: [user]
      condition: resource.attr.owner == principal.id
  rules:
    - name: owners-read
      actions: [read]
      effect: allow
      derivedRoles: [owner]
`;

/** The formatted problems compilePolicies reports for these files. */
function problemsOf(files: Record<string, string>): string[] {
  try {
    compilePolicies(Object.entries(files).map(([file, text]) => ({ file, text })));
  } catch (error) {
    assert.ok(error instanceof PolicyLoadError, String(error));
    return error.problems.map(formatPolicyProblem);
  }
  assert.fail('expected a PolicyLoadError');
}

describe('compilePolicies', () => {
  it('compiles a valid file into a policy named kind:version, with version defaulting to "default"', () => {
    const set = compilePolicies([{ file: 'policies/document.yaml', text: valid('document') }]);
    const policy = set.policies.get('document');
    assert.equal(policy?.id, 'document:default');
    assert.equal(policy.file, 'policies/document.yaml');
    assert.deepEqual(set.files, ['policies/document.yaml']);
    assert.ok(Object.isFrozen(set));
  });

  it('reports a YAML syntax error with its line and column', () => {
    assert.deepEqual(problemsOf({ 'policies/broken.yaml': 'apiVersion: portcullis/v1\nresourcePolicy:\n  resource: document\n    rules: []\n' }), [
      'policies/broken.yaml:3:13: YAML: Nested mappings are not allowed in compact mappings',
      'policies/broken.yaml:3:13: YAML: Implicit keys need to be on a single line',
    ]);
  });

  it('rejects a key written twice instead of letting the last one win', () => {
    const text = valid('document').replace('      effect: allow\n', '      effect: deny\n      effect: allow\n');
    assert.deepEqual(problemsOf({ 'policies/twice.yaml': text }), ['policies/twice.yaml:12:7: YAML: Map keys must be unique']);
  });

  it('rejects an unknown key at the line of the key, naming its path', () => {
    const text = valid('document').replace('      effect: allow\n', '      effect: allow\n      efect: deny\n');
    assert.deepEqual(problemsOf({ 'policies/document.yaml': text }), ['policies/document.yaml:12:7: resourcePolicy.rules[0].efect: unknown key']);
  });

  it('reports a missing required key and a wrong value at their paths', () => {
    const text = 'apiVersion: portcullis/v2\nresourcePolicy:\n  resource: document\n  rules:\n    - name: r\n      actions: []\n';
    assert.deepEqual(problemsOf({ 'policies/document.yaml': text }), [
      'policies/document.yaml:1:13: apiVersion: Invalid input: expected "portcullis/v1"',
      'policies/document.yaml:5:7: resourcePolicy.rules[0].effect: required',
      'policies/document.yaml:6:16: resourcePolicy.rules[0].actions: must list at least one action, or *',
    ]);
  });

  it('reports an empty file as empty', () => {
    assert.deepEqual(problemsOf({ 'policies/empty.yaml': '' }), ['policies/empty.yaml: the file is empty']);
  });

  it('reports a CEL syntax error with the file, line and rule path', () => {
    const text = valid('document').replace('      derivedRoles: [owner]\n', '      derivedRoles: [owner]\n      condition: resource.attr.owner ==\n');
    assert.deepEqual(problemsOf({ 'policies/document.yaml': text }), [
      'policies/document.yaml:13:18: resourcePolicy.rules[0].condition: CEL syntax error at 1:21: found = but expecting end of input',
    ]);
  });

  it('rejects a condition that reads an unknown variable or calls an unknown function, at load time', () => {
    const text = valid('document')
      .replace('resource.attr.owner == principal.id', 'resource.attr.owner == principle.id')
      .replace('      derivedRoles: [owner]\n', '      derivedRoles: [owner]\n      condition: resource.attr.name.lowercase() == "x"\n');
    assert.deepEqual(problemsOf({ 'policies/document.yaml': text }), [
      'policies/document.yaml:7:18: resourcePolicy.derivedRoles[0].condition: unknown variable "principle" (conditions can use principal, resource, request)',
      'policies/document.yaml:13:18: resourcePolicy.rules[0].condition: unknown function "lowercase"',
    ]);
  });

  it('rejects a rule naming a derived role the policy does not define', () => {
    const text = valid('document').replace('derivedRoles: [owner]', 'derivedRoles: [owner, ownr]');
    assert.deepEqual(problemsOf({ 'policies/document.yaml': text }), [
      'policies/document.yaml:12:29: resourcePolicy.rules[0].derivedRoles[1]: unknown derived role "ownr" (defined: owner)',
    ]);
  });

  it('rejects a resource kind defined in two files, naming the first', () => {
    assert.deepEqual(problemsOf({ 'policies/b.yaml': valid('document'), 'policies/a.yaml': valid('document') }), [
      'policies/b.yaml:3:13: resourcePolicy.resource: resource kind "document" is already defined in policies/a.yaml',
    ]);
  });

  it('rejects duplicate and reserved rule names, duplicate derived roles, and a derived role held by everyone', () => {
    const text = `apiVersion: portcullis/v1
resourcePolicy:
  resource: document
  derivedRoles:
    - name: owner
      condition: resource.attr.owner == principal.id
    - name: owner
      parentRoles: [user]
    - name: anybody
  rules:
    - name: default-deny
      actions: [read]
      effect: allow
    - name: r
      actions: [read]
      effect: allow
    - name: r
      actions: [read]
      effect: deny
`;
    assert.deepEqual(problemsOf({ 'policies/document.yaml': text }), [
      'policies/document.yaml:7:13: resourcePolicy.derivedRoles[1].name: derived role "owner" is defined twice',
      'policies/document.yaml:9:7: resourcePolicy.derivedRoles[2]: needs parentRoles, a condition, or both',
      'policies/document.yaml:11:13: resourcePolicy.rules[0].name: "default-deny" is reserved for decisions the engine makes itself',
      'policies/document.yaml:17:13: resourcePolicy.rules[2].name: rule name "r" is used twice in this policy',
    ]);
  });

  it('lists every problem of every file in one error', () => {
    const error = (() => {
      try {
        compilePolicies([
          { file: 'policies/a.yaml', text: valid('a').replace('effect: allow', 'effect: permit') },
          { file: 'policies/b.yaml', text: valid('b') },
          { file: 'policies/c.yaml', text: valid('c').replace('derivedRoles: [owner]', 'derivedRoles: [owners]') },
        ]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(error instanceof PolicyLoadError);
    assert.equal(error.code, 'POLICY_INVALID');
    assert.equal(error.message, [
      'the policy set is not valid (2 problems):',
      '  policies/a.yaml:11:15: resourcePolicy.rules[0].effect: Invalid option: expected one of "allow"|"deny"',
      '  policies/c.yaml:12:22: resourcePolicy.rules[0].derivedRoles[0]: unknown derived role "owners" (defined: owner)',
    ].join('\n'));
    const problem = error.toProblemError();
    assert.equal(problem.status, 400);
    assert.deepEqual(problem.errors?.[0], { path: 'policies/a.yaml:11:15: resourcePolicy.rules[0].effect', message: 'Invalid option: expected one of "allow"|"deny"' });
  });
});
