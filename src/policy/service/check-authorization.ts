import type { Clock } from '../../platform/clock.js';
import type { Random } from '../../platform/random.js';
import { checkResource } from './check-resource.js';
import type { PolicyStore } from './policy-store.js';
import type { Decision, Principal, Resource } from './policy-types.js';

/** The resource kind and action that guard the decision API itself. */
export const DECISION_API_RESOURCE: Resource = { kind: 'portcullis:authz', id: 'check' };

/** Who asks the decision API, from their verified access token. */
export interface DecisionCaller { sub: string; roles: readonly string[]; tenant?: string }

/** What the decision API is asked. */
export interface AuthorizationQuestion { principal: Principal; resource: Resource; actions: readonly string[] }

/** A decision as answered over HTTP: the engine's `error` detail stays in the audit log. */
export interface PublicDecision { allow: boolean; policy: string; rule: string }

/** Dependencies of checkAuthorization. */
export interface CheckAuthorizationDeps {
  policies: PolicyStore;
  clock: Clock;
  random: Random;
  /** Fraction of allowed decisions to audit (denials are always audited). */
  allowSampleRate: number;
  /** Records one `policy.denied` (or sampled `policy.allowed`) event. */
  audit: (event: { type: 'policy.denied' | 'policy.allowed'; caller: DecisionCaller; question: AuthorizationQuestion; decisions: Record<string, Decision> }) => Promise<void>;
}

/** Outcome: `forbidden` when the caller may not ask at all. */
export type CheckOutcome = { kind: 'forbidden' } | { kind: 'answered'; results: Record<string, PublicDecision> };

/** Answers POST /v1/authz/check: may the caller ask, then a decision per action; denials audited. */
export function createCheckAuthorization(deps: CheckAuthorizationDeps) {
  return async function checkAuthorization(caller: DecisionCaller, question: AuthorizationQuestion): Promise<CheckOutcome> {
    // One policy set for the whole request, even if a reload lands half-way.
    const policySet = deps.policies.current();
    const request = { timeMs: deps.clock.nowMs() };
    const callerPrincipal: Principal = { id: caller.sub, roles: caller.roles, ...(caller.tenant ? { attr: { tenant: caller.tenant } } : {}) };
    const gate = checkResource(policySet, { principal: callerPrincipal, resource: DECISION_API_RESOURCE, actions: ['check'], request });
    if (!gate.check?.allow) return { kind: 'forbidden' };

    const decisions = checkResource(policySet, { ...question, request });
    const results: Record<string, PublicDecision> = {};
    let denied = false;
    for (const action of question.actions) {
      const d = decisions[action]!;
      results[action] = { allow: d.allow, policy: d.policy, rule: d.rule };
      if (!d.allow) denied = true;
    }
    if (denied) await deps.audit({ type: 'policy.denied', caller, question, decisions });
    else if (deps.allowSampleRate > 0 && deps.random.bytes(4).readUInt32BE(0) / 0x1_0000_0000 < deps.allowSampleRate) {
      await deps.audit({ type: 'policy.allowed', caller, question, decisions });
    }
    return { kind: 'answered', results };
  };
}
