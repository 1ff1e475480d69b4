import { PolicyLoadError, type PolicyProblem } from '../problems.js';
import { compileCondition, type CompiledCondition } from './cel-condition.js';
import { policyFileSchema, type PolicyFile } from './policy-schema.js';
import type { ActionRules, CompiledDerivedRole, CompiledPolicy, CompiledRule, Decision, PolicySet } from './policy-types.js';
import { parseYamlSource, sortByPlace, type ParsedSource, type PathSegment, type SourceFile } from './yaml-source.js';

/** Rule names the engine itself reports; a policy rule with one of them would make decisions ambiguous. */
export const RESERVED_RULE_NAMES: ReadonlySet<string> = new Set(['default-deny', 'tenant-isolation']);

/**
 * Validates and compiles policy files into an immutable PolicySet; pure (no I/O).
 * Throws PolicyLoadError listing every problem of every file: YAML syntax, schema,
 * CEL, duplicate names, unknown derived roles, and a resource kind defined twice.
 */
export function compilePolicies(sources: readonly SourceFile[]): PolicySet {
  // Sorted so that "already defined in" always names the same file, whatever readdir's order.
  const sorted = [...sources].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const problems: PolicyProblem[] = [];
  const policies = new Map<string, CompiledPolicy>();
  // Kinds seen in any schema-valid file, even one with other problems, so a duplicate is reported at once.
  const kindFiles = new Map<string, string>();
  for (const source of sorted) {
    const result = parseYamlSource(source, policyFileSchema);
    if (!result.ok) {
      problems.push(...result.problems);
      continue;
    }
    const fileProblems: PolicyProblem[] = [];
    const policy = compilePolicy(result.parsed, fileProblems);
    const earlier = kindFiles.get(policy.kind);
    if (earlier !== undefined) {
      fileProblems.push(result.parsed.problemAt(['resourcePolicy', 'resource'], `resource kind "${policy.kind}" is already defined in ${earlier}`));
    } else {
      kindFiles.set(policy.kind, policy.file);
    }
    if (fileProblems.length === 0) policies.set(policy.kind, policy);
    problems.push(...sortByPlace(fileProblems));
  }
  if (problems.length > 0) throw new PolicyLoadError(problems);
  return Object.freeze({ policies, files: Object.freeze(sorted.map((s) => s.file)) });
}

// Compiles one validated file, pushing its semantic problems; the result is only used when there are none.
function compilePolicy(parsed: ParsedSource<PolicyFile>, problems: PolicyProblem[]): CompiledPolicy {
  const rp = parsed.value.resourcePolicy;
  const id = `${rp.resource}:${rp.version}`;
  const at = (path: readonly PathSegment[], message: string, where?: 'key' | 'value') => problems.push(parsed.problemAt(['resourcePolicy', ...path], message, where));
  const compile = (source: string | undefined, path: readonly PathSegment[]): CompiledCondition | undefined => {
    if (source === undefined) return undefined;
    const result = compileCondition(source);
    if ('error' in result) {
      at(path, result.error);
      return undefined;
    }
    return result.condition;
  };

  const derivedByName = new Map<string, CompiledDerivedRole>();
  const derivedRoles = (rp.derivedRoles ?? []).map((role, index): CompiledDerivedRole => {
    if (derivedByName.has(role.name)) at(['derivedRoles', index, 'name'], `derived role "${role.name}" is defined twice`);
    if (role.parentRoles === undefined && role.condition === undefined) {
      // Without either, the "derived" role would be held by every principal: almost surely a mistake.
      at(['derivedRoles', index], 'needs parentRoles, a condition, or both');
    }
    const compiled: CompiledDerivedRole = Object.freeze({
      name: role.name,
      index,
      parentRoles: role.parentRoles === undefined || role.parentRoles.includes('*') ? undefined : new Set(role.parentRoles),
      condition: compile(role.condition, ['derivedRoles', index, 'condition']),
    });
    if (!derivedByName.has(role.name)) derivedByName.set(role.name, compiled);
    return compiled;
  });

  const ruleNames = new Set<string>();
  const rules = rp.rules.map((rule, index): CompiledRule => {
    if (RESERVED_RULE_NAMES.has(rule.name)) at(['rules', index, 'name'], `"${rule.name}" is reserved for decisions the engine makes itself`);
    else if (ruleNames.has(rule.name)) at(['rules', index, 'name'], `rule name "${rule.name}" is used twice in this policy`);
    ruleNames.add(rule.name);
    const derived: CompiledDerivedRole[] = [];
    (rule.derivedRoles ?? []).forEach((name, j) => {
      const role = derivedByName.get(name);
      if (role !== undefined) derived.push(role);
      else {
        const known = [...derivedByName.keys()];
        at(['rules', index, 'derivedRoles', j], `unknown derived role "${name}" (${known.length === 0 ? 'this policy defines none' : `defined: ${known.join(', ')}`})`);
      }
    });
    const decision: Decision = Object.freeze({ allow: rule.effect === 'allow', policy: id, rule: rule.name });
    return Object.freeze({
      name: rule.name,
      index,
      effect: rule.effect,
      anyPrincipal: (rule.roles === undefined && rule.derivedRoles === undefined) || (rule.roles ?? []).includes('*'),
      roles: new Set(rule.roles ?? []),
      derivedRoles: Object.freeze(derived),
      condition: compile(rule.condition, ['rules', index, 'condition']),
      decision,
    });
  });

  // Precompute, per named action, the rules that can decide it, so a check scans only those.
  const actionsOf = rp.rules.map((rule) => new Set(rule.actions));
  const rulesFor = (matches: (actions: Set<string>) => boolean): ActionRules => {
    const relevant = rules.filter((_, i) => matches(actionsOf[i]!));
    return Object.freeze({ deny: relevant.filter((r) => r.effect === 'deny'), allow: relevant.filter((r) => r.effect === 'allow') });
  };
  const byAction = new Map<string, ActionRules>();
  for (const action of new Set(rp.rules.flatMap((rule) => rule.actions))) {
    if (action !== '*') byAction.set(action, rulesFor((actions) => actions.has(action) || actions.has('*')));
  }

  return Object.freeze({
    id,
    kind: rp.resource,
    version: rp.version,
    file: parsed.file,
    tenantIsolation: rp.tenantIsolation ?? false,
    derivedRoles: Object.freeze(derivedRoles),
    rules: Object.freeze(rules),
    byAction,
    otherActions: rulesFor((actions) => actions.has('*')),
    defaultDeny: Object.freeze({ allow: false, policy: id, rule: 'default-deny' }),
    tenantDeny: Object.freeze({ allow: false, policy: id, rule: 'tenant-isolation' }),
  });
}
