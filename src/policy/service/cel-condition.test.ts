import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCondition, createConditionBindings, type CompiledCondition } from './cel-condition.js';

function compiled(source: string): CompiledCondition {
  const result = compileCondition(source);
  assert.ok('condition' in result, `should compile: ${source}: ${'error' in result ? result.error : ''}`);
  return result.condition;
}

const bindings = createConditionBindings(
  { id: 'u1', roles: ['user', 'editor'], attr: { tenant: 't1', level: 3, tags: ['a', 'b'], profile: { country: 'NL' } } },
  { kind: 'document', id: 'd1', attr: { owner: 'u1', title: 'Quarterly Report' } },
  { timeMs: Date.parse('2026-03-04T05:06:07.089Z'), attr: { ip: '10.0.0.1' } },
);

describe('CEL conditions', () => {
  it('evaluates expressions over principal, resource and request to true or false', () => {
    const cases: [string, boolean][] = [
      ['resource.attr.owner == principal.id', true],
      ['"editor" in principal.roles', true],
      ['"admin" in principal.roles', false],
      ['principal.attr.level >= 3 && principal.attr.level < 4', true],
      ['principal.attr.tags.exists(t, t == "b")', true],
      ['principal.attr.tags.all(t, t.size() == 1)', true],
      ['principal.attr.profile.country == "NL"', true],
      ['resource.kind == "document" && resource.id.startsWith("d")', true],
      ['resource.attr.title.lowerAscii().contains("report")', true],
      ['request.time == timestamp("2026-03-04T05:06:07.089Z")', true],
      ['request.time.getFullYear() == 2026', true],
      ['request.time + duration("1h") > timestamp("2026-03-04T06:00:00Z")', true],
      ['request.attr.ip.startsWith("10.")', true],
      ['has(resource.attr.archived)', false],
      ['type(principal.id) == string', true],
    ];
    for (const [source, expected] of cases) assert.equal(compiled(source).evaluate(bindings), expected, source);
  });

  it('returns an error, not false, when a condition reads a missing attribute or fails at run time', () => {
    const cases: [string, RegExp][] = [
      ['resource.attr.missing == "x"', /field not found: missing/],
      ['1 / (principal.roles.size() - 2) == 1', /divide by zero/],
      ['principal.attr.level + 1 > 0', /overload|no matching/i],
      ['resource.attr.owner', /returned a string, not a bool/],
    ];
    for (const [source, expected] of cases) {
      const result = compiled(source).evaluate(bindings);
      assert.ok(result instanceof Error, source);
      assert.match(result.message, expected, source);
    }
  });

  it('reports syntax errors with the position inside the expression', () => {
    assert.deepEqual(compileCondition('principal.id == "u1" &&'), { error: 'CEL syntax error at 1:22: found & but expecting end of input' });
  });

  it('rejects unknown variables and functions, but accepts macro variables in their scope', () => {
    assert.deepEqual(compileCondition('user.id == "x"'), { error: 'unknown variable "user" (conditions can use principal, resource, request)' });
    assert.deepEqual(compileCondition('principal.roles.exists(r, r == "a") && r == "a"'), { error: 'unknown variable "r" (conditions can use principal, resource, request)' });
    assert.deepEqual(compileCondition('now() > request.time'), { error: 'unknown function "now"' });
    assert.ok('condition' in compileCondition('principal.roles.filter(r, r.startsWith("a")).map(r, r + "!").size() > 0'));
  });

  it('sees a null-prototype attribute map like a plain one', () => {
    const attr = Object.assign(Object.create(null) as Record<string, unknown>, { owner: 'u1' });
    const b = createConditionBindings({ id: 'u1', roles: [] }, { kind: 'd', id: '1', attr }, { timeMs: 0 });
    assert.equal(compiled('resource.attr.owner == principal.id').evaluate(b), true);
  });
});
