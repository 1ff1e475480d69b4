import type { CompiledCondition } from './cel-condition.js';

/** Who asks: shaped as in API.md `principal {id, roles[], attr{}}`. */
export interface Principal {
  id: string;
  roles: readonly string[];
  attr?: Readonly<Record<string, unknown>>;
}

/** What is asked about: shaped as in API.md `resource {kind, id, attr{}}`. */
export interface Resource {
  kind: string;
  id: string;
  attr?: Readonly<Record<string, unknown>>;
}

/** Facts about the request itself; the caller supplies the time so evaluation never reads a clock. */
export interface RequestFacts {
  /** Milliseconds since the Unix epoch; conditions see it as the CEL timestamp `request.time`. */
  timeMs: number;
  /** Extra request attributes, visible to conditions as `request.attr`. */
  attr?: Readonly<Record<string, unknown>>;
}

/** One authorization question: may `principal` do each of `actions` to `resource`? */
export interface CheckInput {
  principal: Principal;
  resource: Resource;
  actions: readonly string[];
  request: RequestFacts;
}

/** The answer for one action, naming what decided it (API.md "Authorization decisions"). */
export interface Decision {
  readonly allow: boolean;
  /** `kind:version` of the deciding policy, or `none` when no policy covers the resource kind. */
  readonly policy: string;
  /** The deciding rule's name, `tenant-isolation`, or `default-deny`. */
  readonly rule: string;
  /**
   * Set when a condition failed to evaluate and that shaped the answer: a deny rule that
   * denied because its condition errored (fail closed), or an allow rule that was skipped.
   */
  readonly error?: string;
}

/** A derived role after compilation. */
export interface CompiledDerivedRole {
  readonly name: string;
  /** Position in the policy's derived-role list: the slot of its per-check memo. */
  readonly index: number;
  /** Undefined means any principal may hold it (subject to the condition). */
  readonly parentRoles: ReadonlySet<string> | undefined;
  readonly condition: CompiledCondition | undefined;
}

/** A rule after compilation; decisions are prebuilt so a check allocates nothing on the happy path. */
export interface CompiledRule {
  readonly name: string;
  /** Position in the policy's rule list: the slot of its per-check memo. */
  readonly index: number;
  readonly effect: 'allow' | 'deny';
  /** True when the rule names neither roles nor derived roles, or lists role `*`. */
  readonly anyPrincipal: boolean;
  readonly roles: ReadonlySet<string>;
  readonly derivedRoles: readonly CompiledDerivedRole[];
  readonly condition: CompiledCondition | undefined;
  readonly decision: Decision;
}

/** Rules that can decide one action, split by effect, each list in file order. */
export interface ActionRules {
  readonly deny: readonly CompiledRule[];
  readonly allow: readonly CompiledRule[];
}

/** A resource policy ready to evaluate. */
export interface CompiledPolicy {
  /** `kind:version`, reported in decisions. */
  readonly id: string;
  readonly kind: string;
  readonly version: string;
  /** The file it came from, for reports. */
  readonly file: string;
  readonly tenantIsolation: boolean;
  readonly derivedRoles: readonly CompiledDerivedRole[];
  readonly rules: readonly CompiledRule[];
  /** Per named action: the rules listing it or `*`. */
  readonly byAction: ReadonlyMap<string, ActionRules>;
  /** The rules for an action no rule names: only the `*` rules. */
  readonly otherActions: ActionRules;
  readonly defaultDeny: Decision;
  readonly tenantDeny: Decision;
}

/** An immutable, compiled set of resource policies, at most one per resource kind. */
export interface PolicySet {
  readonly policies: ReadonlyMap<string, CompiledPolicy>;
  /** The files the set was built from, sorted. */
  readonly files: readonly string[];
}
