import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkResource } from './check-resource.js';
import { compilePolicies } from './compile-policies.js';
import type { CheckInput, Principal, Resource } from './policy-types.js';

const documentPolicy = `
apiVersion: portcullis/v1
resourcePolicy:
  resource: document
  version: default
  derivedRoles:
    - name: owner
      parentRoles: [user]
      condition: resource.attr.owner == principal.id
    - name: reviewer
      condition: principal.id in resource.attr.reviewers
  rules:
    - name: admins-do-anything
      actions: ['*']
      effect: allow
      roles: [admin]
    - name: owners-read-write
      actions: [read, update]
      effect: allow
      derivedRoles: [owner]
    - name: reviewers-read-before-deadline
      actions: [read, comment]
      effect: allow
      derivedRoles: [reviewer]
      condition: request.time < timestamp("2030-01-01T00:00:00Z")
    - name: public-read
      actions: [read]
      effect: allow
      condition: resource.attr.public == true
    - name: no-delete-when-legal-hold
      actions: [delete]
      effect: deny
      condition: resource.attr.legalHold
    - name: owners-delete
      actions: [delete]
      effect: allow
      derivedRoles: [owner]
    - name: nobody-touches-archived
      actions: [update, delete, comment]
      effect: deny
      # has() first: a deny condition that errors denies (fail closed), so guard optional attributes.
      condition: has(resource.attr.archived) && resource.attr.archived == true
`;

const tenantPolicy = `
apiVersion: portcullis/v1
resourcePolicy:
  resource: invoice
  tenantIsolation: true
  rules:
    - name: everyone-reads
      actions: [read]
      effect: allow
`;

const suspensionPolicy = `
apiVersion: portcullis/v1
resourcePolicy:
  resource: report
  derivedRoles:
    - name: suspended
      parentRoles: [user]
      condition: principal.attr.suspended == true
  rules:
    - name: users-read
      actions: [read, export]
      effect: allow
      roles: [user]
    - name: suspended-users-export-nothing
      actions: [export]
      effect: deny
      derivedRoles: [suspended]
    - name: exports-need-clearance
      actions: [export]
      effect: deny
      condition: principal.attr.clearance < 3
`;

const set = compilePolicies([
  { file: 'policies/document.yaml', text: documentPolicy },
  { file: 'policies/invoice.yaml', text: tenantPolicy },
  { file: 'policies/report.yaml', text: suspensionPolicy },
]);

const T2026 = Date.parse('2026-01-01T00:00:00Z');
const alice: Principal = { id: 'alice', roles: ['user'], attr: { tenant: 't1' } };
const bob: Principal = { id: 'bob', roles: ['user'], attr: { tenant: 't2' } };
const root: Principal = { id: 'root', roles: ['admin'], attr: {} };
const aliceDoc: Resource = { kind: 'document', id: 'd1', attr: { owner: 'alice', reviewers: ['carol'] } };

function check(principal: Principal, resource: Resource, actions: string[], timeMs = T2026) {
  const input: CheckInput = { principal, resource, actions, request: { timeMs } };
  return checkResource(set, input);
}

describe('checkResource', () => {
  it('grants a derived role when the parent role and the condition both hold', () => {
    assert.deepEqual(check(alice, aliceDoc, ['read', 'update']), {
      read: { allow: true, policy: 'document:default', rule: 'owners-read-write' },
      update: { allow: true, policy: 'document:default', rule: 'owners-read-write' },
    });
  });

  it('withholds a derived role when its condition is false', () => {
    assert.deepEqual(check(bob, aliceDoc, ['update']), { update: { allow: false, policy: 'document:default', rule: 'default-deny' } });
  });

  it('withholds a derived role from a principal without any of its parent roles, even when the condition holds', () => {
    const service: Principal = { id: 'alice', roles: ['service'] };
    assert.equal(check(service, aliceDoc, ['update']).update!.allow, false);
  });

  it('evaluates a derived role without parent roles for any principal', () => {
    const carol: Principal = { id: 'carol', roles: [] };
    assert.deepEqual(check(carol, aliceDoc, ['comment']), { comment: { allow: true, policy: 'document:default', rule: 'reviewers-read-before-deadline' } });
  });

  it('applies a time condition to the time the caller supplies, not the clock', () => {
    const carol: Principal = { id: 'carol', roles: [] };
    assert.equal(check(carol, aliceDoc, ['comment'], Date.parse('2029-12-31T23:59:59.999Z')).comment!.allow, true);
    assert.equal(check(carol, aliceDoc, ['comment'], Date.parse('2030-01-01T00:00:00Z')).comment!.allow, false);
  });

  it('matches a rule without roles or derived roles for every principal whose condition holds', () => {
    const stranger: Principal = { id: 'eve', roles: [] };
    assert.equal(check(stranger, { kind: 'document', id: 'd2', attr: { public: true } }, ['read']).read!.rule, 'public-read');
    assert.equal(check(stranger, { kind: 'document', id: 'd2', attr: { public: false } }, ['read']).read!.allow, false);
  });

  it('treats an allow rule whose condition errors as not matching, and says why in the default deny', () => {
    // Every allow rule for read errors here (no owner, reviewers or public attribute);
    // the first one that was skipped is named.
    const stranger: Principal = { id: 'eve', roles: ['user'] };
    assert.deepEqual(check(stranger, { kind: 'document', id: 'd3', attr: {} }, ['read']), {
      read: { allow: false, policy: 'document:default', rule: 'default-deny', error: 'rule "owners-read-write" skipped: derived role "owner" condition failed: field not found: owner' },
    });
  });

  it('lets a matching deny rule win over every matching allow rule, whatever their order', () => {
    // admins-do-anything (allow, first in the file) and nobody-touches-archived (deny, last) both match.
    const archived: Resource = { kind: 'document', id: 'd4', attr: { owner: 'alice', archived: true } };
    assert.deepEqual(check(root, archived, ['update', 'read']), {
      update: { allow: false, policy: 'document:default', rule: 'nobody-touches-archived' },
      read: { allow: true, policy: 'document:default', rule: 'admins-do-anything' },
    });
  });

  it('denies, naming the rule, when a deny rule condition fails to evaluate (fail closed)', () => {
    // no-delete-when-legal-hold reads resource.attr.legalHold, which is missing here.
    assert.deepEqual(check(alice, { kind: 'document', id: 'd5', attr: { owner: 'alice' } }, ['delete']), {
      delete: { allow: false, policy: 'document:default', rule: 'no-delete-when-legal-hold', error: 'condition failed: field not found: legalHold' },
    });
    assert.deepEqual(check(alice, { kind: 'document', id: 'd5', attr: { owner: 'alice', legalHold: false } }, ['delete']), {
      delete: { allow: true, policy: 'document:default', rule: 'owners-delete' },
    });
  });

  it('denies when a deny rule condition returns something other than a bool', () => {
    const input: Resource = { kind: 'document', id: 'd6', attr: { owner: 'alice', legalHold: 'no' } };
    const decision = check(alice, input, ['delete']).delete!;
    assert.equal(decision.allow, false);
    assert.equal(decision.rule, 'no-delete-when-legal-hold');
    assert.equal(decision.error, 'condition failed: condition returned a string, not a bool');
  });

  it('fails closed on a deny rule whose derived role cannot be evaluated, but not for principals without its parent role', () => {
    // suspended reads principal.attr.suspended; this user has no such attribute.
    const user: Principal = { id: 'u', roles: ['user'], attr: { clearance: 5 } };
    assert.deepEqual(check(user, { kind: 'report', id: 'r1' }, ['read', 'export']), {
      read: { allow: true, policy: 'report:default', rule: 'users-read' },
      export: { allow: false, policy: 'report:default', rule: 'suspended-users-export-nothing', error: 'derived role "suspended" condition failed: field not found: suspended' },
    });
    const cleared: Principal = { id: 'u', roles: ['user'], attr: { clearance: 5, suspended: false } };
    assert.equal(check(cleared, { kind: 'report', id: 'r1' }, ['export']).export!.allow, true);
    // Without the parent role "user" the derived role is simply not held: nothing to evaluate.
    const auditor: Principal = { id: 'a', roles: ['auditor'], attr: { clearance: 5 } };
    assert.deepEqual(check(auditor, { kind: 'report', id: 'r1' }, ['export']).export, { allow: false, policy: 'report:default', rule: 'default-deny' });
  });

  it('compares JSON numbers with CEL int literals', () => {
    const low: Principal = { id: 'u', roles: ['user'], attr: { clearance: 2, suspended: false } };
    assert.equal(check(low, { kind: 'report', id: 'r1' }, ['export']).export!.rule, 'exports-need-clearance');
  });

  it('lets a * rule decide actions no rule names, and still lets named deny rules win', () => {
    assert.deepEqual(check(root, aliceDoc, ['share', 'read']), {
      share: { allow: true, policy: 'document:default', rule: 'admins-do-anything' },
      read: { allow: true, policy: 'document:default', rule: 'admins-do-anything' },
    });
    assert.equal(check(root, { kind: 'document', id: 'd7', attr: { archived: true } }, ['comment']).comment!.rule, 'nobody-touches-archived');
  });

  it('never treats a requested "*" action as every action', () => {
    assert.deepEqual(check(root, aliceDoc, ['*']), { '*': { allow: false, policy: 'document:default', rule: 'default-deny' } });
  });

  it('denies by default an action no rule grants', () => {
    assert.deepEqual(check(alice, aliceDoc, ['share']), { share: { allow: false, policy: 'document:default', rule: 'default-deny' } });
  });

  it('denies every action on a resource kind no policy covers', () => {
    assert.deepEqual(check(root, { kind: 'spaceship', id: 's1' }, ['read', 'fly']), {
      read: { allow: false, policy: 'none', rule: 'default-deny' },
      fly: { allow: false, policy: 'none', rule: 'default-deny' },
    });
  });

  it('denies every action across tenants when the policy isolates tenants', () => {
    const invoice: Resource = { kind: 'invoice', id: 'i1', attr: { tenant: 't1' } };
    assert.deepEqual(check(alice, invoice, ['read']), { read: { allow: true, policy: 'invoice:default', rule: 'everyone-reads' } });
    assert.deepEqual(check(bob, invoice, ['read', 'pay']), {
      read: { allow: false, policy: 'invoice:default', rule: 'tenant-isolation' },
      pay: { allow: false, policy: 'invoice:default', rule: 'tenant-isolation' },
    });
  });

  it('isolates a tenant resource from principals without a tenant, and shares resources without one', () => {
    const invoice: Resource = { kind: 'invoice', id: 'i1', attr: { tenant: 't1' } };
    for (const attr of [undefined, {}, { tenant: null }, { tenant: 'T1' }, { tenant: ['t1'] }]) {
      assert.equal(check({ id: 'x', roles: [], ...(attr === undefined ? {} : { attr }) }, invoice, ['read']).read!.rule, 'tenant-isolation', JSON.stringify(attr));
    }
    for (const attr of [undefined, {}, { tenant: null }]) {
      const shared: Resource = { kind: 'invoice', id: 'i2', ...(attr === undefined ? {} : { attr }) };
      assert.equal(check(bob, shared, ['read']).read!.allow, true, JSON.stringify(attr));
    }
  });

  it('does not let a polluted prototype give a resource a tenant', () => {
    const invoice: Resource = { kind: 'invoice', id: 'i1', attr: Object.create({ tenant: 't9' }) as Record<string, unknown> };
    assert.equal(check(bob, invoice, ['read']).read!.allow, true);
  });

  it('keeps an action named __proto__ as an ordinary own key of the result', () => {
    const result = check(alice, aliceDoc, ['__proto__']);
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.deepEqual(Object.keys(result), ['__proto__']);
    assert.equal(result['__proto__']!.allow, false);
  });

  it('reads attributes from null-prototype objects as from plain ones', () => {
    const attr = Object.assign(Object.create(null) as Record<string, unknown>, { owner: 'alice' });
    assert.equal(check(alice, { kind: 'document', id: 'd8', attr }, ['read']).read!.allow, true);
  });

  it('refuses a request time that is not a finite number instead of guessing one', () => {
    for (const timeMs of [Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => check(alice, aliceDoc, ['read'], timeMs), /request\.timeMs must be a finite number/);
      assert.throws(() => check(alice, { kind: 'invoice', id: 'i1' }, ['read'], timeMs), /request\.timeMs must be a finite number/, 'even where no condition reads it');
    }
  });
});
