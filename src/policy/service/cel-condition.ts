import { celEnv, celList, celMap, isCelError, parse, plan, type CelInput, type CelMap, type CelResult } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { Principal, RequestFacts, Resource } from './policy-types.js';

/** The variables a condition may read; anything else is rejected when the policy loads. */
export const CONDITION_VARIABLES = ['principal', 'resource', 'request'] as const;

/** Values bound to a condition's variables for one check; built once per check, shared by every condition. */
export type ConditionBindings = Readonly<Record<(typeof CONDITION_VARIABLES)[number], CelInput>>;

/** A condition parsed and planned once at load time; evaluating it does no parsing and no I/O. */
export interface CompiledCondition {
  readonly source: string;
  /** `true` or `false`, or an Error when evaluation failed (missing attribute, type mismatch, non-bool result). */
  evaluate(bindings: ConditionBindings): boolean | Error;
}

// One environment for every condition: the CEL standard library plus the strings extension
// (lowerAscii, split, ...), which policy authors coming from Cerbos or Kubernetes expect.
const env = celEnv({ funcs: strings });

// Call names the planner implements itself rather than looking up in the environment
// (cel-es planner.ts: index, optional access, ternary, short-circuit logic, macro helpers).
const PLANNER_CALLS = new Set(['_[_]', '_[?_]', '_?._', '_?_:_', '_&&_', '_||_', '@not_strictly_false', '__not_strictly_false__']);

// Type names CEL lets an expression mention as identifiers, e.g. `type(x) == string`.
const TYPE_IDENTIFIERS = new Set(['bool', 'int', 'uint', 'double', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn']);

/** Compiles a condition, or explains why it cannot be: a syntax error, an unknown variable or an unknown function. */
export function compileCondition(source: string): { condition: CompiledCondition } | { error: string } {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (error) {
    // cel-es reports "<input>:line:col: message"; the file and path are added by the caller.
    const message = error instanceof Error ? error.message : String(error);
    return { error: `CEL syntax error at ${message.replace(/^<input>:/, '')}` };
  }
  // cel-es exports no type checker, so a misspelt variable or function would only surface
  // as an evaluation error on every check. Catch both while the policy loads instead.
  const unknown = findUnknownNames(parsed.expr);
  if (unknown !== undefined) return { error: unknown };
  let program: ReturnType<typeof plan>;
  try {
    program = plan(env, parsed);
  } catch (error) {
    return { error: `CEL planning failed: ${error instanceof Error ? error.message : String(error)}` };
  }
  return {
    condition: {
      source,
      evaluate(bindings) {
        return toOutcome(program(bindings));
      },
    },
  };
}

function toOutcome(result: CelResult): boolean | Error {
  if (typeof result === 'boolean') return result;
  if (isCelError(result)) return result;
  // A condition that yields a string or a number is a policy bug; never coerce it to true.
  return new Error(`condition returned a ${describe(result)}, not a bool`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return 'double';
  return typeof value === 'object' ? 'non-bool value' : typeof value;
}

type Expr = ReturnType<typeof parse>['expr'];

function findUnknownNames(expr: Expr | undefined, scope: ReadonlySet<string> = new Set()): string | undefined {
  if (expr === undefined) return undefined;
  const kind = expr.exprKind;
  switch (kind.case) {
    case 'identExpr': {
      const name = kind.value.name;
      if (scope.has(name) || (CONDITION_VARIABLES as readonly string[]).includes(name) || TYPE_IDENTIFIERS.has(name)) return undefined;
      return `unknown variable "${name}" (conditions can use ${CONDITION_VARIABLES.join(', ')})`;
    }
    case 'selectExpr':
      return findUnknownNames(kind.value.operand, scope);
    case 'callExpr': {
      const call = kind.value;
      if (!PLANNER_CALLS.has(call.function) && env.funcs.find(call.function) === undefined) {
        return `unknown function "${call.function}"`;
      }
      return findUnknownNames(call.target, scope) ?? firstOf(call.args, scope);
    }
    case 'listExpr':
      return firstOf(kind.value.elements, scope);
    case 'structExpr':
      for (const entry of kind.value.entries) {
        const found = (entry.keyKind.case === 'mapKey' ? findUnknownNames(entry.keyKind.value, scope) : undefined) ?? findUnknownNames(entry.value, scope);
        if (found !== undefined) return found;
      }
      return undefined;
    case 'comprehensionExpr': {
      // Macros (all, exists, map, filter) expand to comprehensions; their loop variables
      // are in scope for the step, condition and result, not for the range they iterate.
      const c = kind.value;
      const inner = new Set(scope);
      for (const name of [c.iterVar, c.iterVar2, c.accuVar]) if (name !== '') inner.add(name);
      return findUnknownNames(c.iterRange, scope) ?? findUnknownNames(c.accuInit, scope)
        ?? findUnknownNames(c.loopCondition, inner) ?? findUnknownNames(c.loopStep, inner) ?? findUnknownNames(c.result, inner);
    }
    default:
      return undefined;
  }
}

function firstOf(exprs: readonly Expr[], scope: ReadonlySet<string>): string | undefined {
  for (const e of exprs) {
    const found = findUnknownNames(e, scope);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Builds the CEL view of one check's principal, resource and request; conditions share it. */
export function createConditionBindings(principal: Principal, resource: Resource, request: RequestFacts): ConditionBindings {
  return new LazyBindings(principal, resource, request);
}

// Each variable is converted on first read and then reused by every condition of the check:
// a policy whose conditions only read `resource` never pays for `principal` or `request`.
// cel-es reads bindings by property access, so getters are all it takes.
class LazyBindings implements ConditionBindings {
  private principalMap: CelMap | undefined;
  private resourceMap: CelMap | undefined;
  private requestMap: CelMap | undefined;

  constructor(
    private readonly p: Principal,
    private readonly r: Resource,
    private readonly q: RequestFacts,
  ) {}

  get principal(): CelMap {
    return (this.principalMap ??= celMap(new Map<string, CelInput>([
      ['id', this.p.id],
      ['roles', celList(this.p.roles as readonly CelInput[])],
      ['attr', attrMap(this.p.attr)],
    ])));
  }

  get resource(): CelMap {
    return (this.resourceMap ??= celMap(new Map<string, CelInput>([
      ['kind', this.r.kind],
      ['id', this.r.id],
      ['attr', attrMap(this.r.attr)],
    ])));
  }

  get request(): CelMap {
    return (this.requestMap ??= celMap(new Map<string, CelInput>([
      ['time', timestampOf(this.q.timeMs)],
      ['attr', attrMap(this.q.attr)],
    ])));
  }
}

function attrMap(attr: Readonly<Record<string, unknown>> | undefined): CelMap {
  // Own keys copied into a Map rather than handing cel-es the object: its converter only
  // accepts objects whose constructor is Object, so a null-prototype object would fail
  // every condition. Nested values stay JSON-shaped; cel-es converts them when read, and
  // reports any value it cannot represent as an evaluation error.
  const map = new Map<string, CelInput>();
  if (attr !== undefined) for (const key of Object.keys(attr)) map.set(key, attr[key] as CelInput);
  return celMap(map);
}

function timestampOf(timeMs: number): CelInput {
  const seconds = Math.floor(timeMs / 1000);
  // A protobuf-es v2 message is a plain object tagged with $typeName; cel-es turns a
  // google.protobuf.Timestamp into a CEL timestamp, so `request.time < timestamp("...")` works.
  // Writing the literal avoids depending directly on @bufbuild/protobuf (a peer of @bufbuild/cel).
  return { $typeName: 'google.protobuf.Timestamp', seconds: BigInt(seconds), nanos: Math.floor((timeMs - seconds * 1000) * 1e6) } as unknown as CelInput;
}
