import { createConditionBindings, type CompiledCondition, type ConditionBindings } from './cel-condition.js';
import type { CheckInput, CompiledDerivedRole, CompiledPolicy, CompiledRule, Decision, PolicySet, Principal, Resource } from './policy-types.js';

/** Reported as `policy` when no policy covers the resource kind. */
export const NO_POLICY = 'none';

const NO_POLICY_DENY: Decision = Object.freeze({ allow: false, policy: NO_POLICY, rule: 'default-deny' });

/**
 * Decides each action on one resource: pure, synchronous, no I/O. Order of precedence:
 * tenant isolation, then any matching deny rule, then any matching allow rule, else deny.
 * A condition that fails to evaluate never allows; in a deny rule it denies (fail closed).
 */
export function checkResource(policySet: PolicySet, input: CheckInput): Record<string, Decision> {
  // Checked up front, whether or not a condition reads the time: a caller bug should surface
  // on every check, not only on the policies that happen to have conditions.
  if (!Number.isFinite(input.request.timeMs)) throw new TypeError(`request.timeMs must be a finite number, got ${input.request.timeMs}`);
  const policy = policySet.policies.get(input.resource.kind);
  // Object.fromEntries defines own properties, so an action named "__proto__" cannot touch the prototype.
  const entries: [string, Decision][] = [];
  if (policy === undefined) {
    for (const action of input.actions) entries.push([action, NO_POLICY_DENY]);
  } else if (policy.tenantIsolation && crossesTenant(input.principal, input.resource)) {
    for (const action of input.actions) entries.push([action, policy.tenantDeny]);
  } else {
    const evaluation = new Evaluation(policy, input);
    for (const action of input.actions) entries.push([action, evaluation.decide(action)]);
  }
  return Object.fromEntries(entries);
}

// A resource is tenant-scoped when it has a tenant (missing or null means shared); then the
// principal must carry the very same tenant, and a principal without one never matches.
function crossesTenant(principal: Principal, resource: Resource): boolean {
  const resourceTenant = ownValue(resource.attr, 'tenant');
  if (resourceTenant === undefined || resourceTenant === null) return false;
  return ownValue(principal.attr, 'tenant') !== resourceTenant;
}

function ownValue(attr: Readonly<Record<string, unknown>> | undefined, key: string): unknown {
  // Own properties only: a polluted Object.prototype must not lend a resource a tenant.
  return attr !== undefined && Object.hasOwn(attr, key) ? attr[key] : undefined;
}

// true: matches; false: does not; Error: could not be decided (a condition failed).
type Outcome = boolean | Error;

// The state of one check: every rule and derived role is evaluated at most once, however many
// actions are asked, because neither depends on the action.
class Evaluation {
  private bindings: ConditionBindings | undefined;
  private ruleOutcomes: Outcome[] | undefined;
  private derivedOutcomes: Outcome[] | undefined;

  constructor(
    private readonly policy: CompiledPolicy,
    private readonly input: CheckInput,
  ) {}

  decide(action: string): Decision {
    // "*" is a wildcard in rules only; asking for it is not a request for every action.
    if (action === '*') return this.policy.defaultDeny;
    const rules = this.policy.byAction.get(action) ?? this.policy.otherActions;
    for (const rule of rules.deny) {
      const outcome = this.ruleOutcome(rule);
      if (outcome === true) return rule.decision;
      // Fail closed: a deny rule that cannot tell whether it applies is taken to apply.
      if (outcome !== false) return { ...rule.decision, error: outcome.message };
    }
    let skipped: string | undefined;
    for (const rule of rules.allow) {
      const outcome = this.ruleOutcome(rule);
      if (outcome === true) return rule.decision;
      if (outcome !== false) skipped ??= `rule "${rule.name}" skipped: ${outcome.message}`;
    }
    return skipped === undefined ? this.policy.defaultDeny : { ...this.policy.defaultDeny, error: skipped };
  }

  private ruleOutcome(rule: CompiledRule): Outcome {
    const memo = (this.ruleOutcomes ??= new Array<Outcome>(this.policy.rules.length));
    return (memo[rule.index] ??= this.evaluateRule(rule));
  }

  // Three-valued AND of "principal qualifies" and "condition holds", as CEL's && does with
  // errors: false wins over an error, an error wins over true.
  private evaluateRule(rule: CompiledRule): Outcome {
    const qualifies = this.principalQualifies(rule);
    if (qualifies === false) return false;
    const holds = rule.condition === undefined ? true : this.evaluate(rule.condition, 'condition');
    if (holds === false) return false;
    return qualifies === true ? holds : qualifies;
  }

  private principalQualifies(rule: CompiledRule): Outcome {
    if (rule.anyPrincipal || hasAny(this.input.principal.roles, rule.roles)) return true;
    let failure: Error | undefined;
    for (const role of rule.derivedRoles) {
      const held = this.derivedOutcome(role);
      if (held === true) return true;
      if (held !== false) failure ??= held;
    }
    return failure ?? false;
  }

  private derivedOutcome(role: CompiledDerivedRole): Outcome {
    const memo = (this.derivedOutcomes ??= new Array<Outcome>(this.policy.derivedRoles.length));
    return (memo[role.index] ??= this.evaluateDerived(role));
  }

  private evaluateDerived(role: CompiledDerivedRole): Outcome {
    if (role.parentRoles !== undefined && !hasAny(this.input.principal.roles, role.parentRoles)) return false;
    return role.condition === undefined ? true : this.evaluate(role.condition, `derived role "${role.name}" condition`);
  }

  private evaluate(condition: CompiledCondition, what: string): Outcome {
    const { principal, resource, request } = this.input;
    const result = condition.evaluate((this.bindings ??= createConditionBindings(principal, resource, request)));
    return result === true || result === false ? result : new Error(`${what} failed: ${result.message}`);
  }
}

function hasAny(roles: readonly string[], wanted: ReadonlySet<string>): boolean {
  for (const role of roles) if (wanted.has(role)) return true;
  return false;
}
