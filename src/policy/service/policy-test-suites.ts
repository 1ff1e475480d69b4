import { z } from 'zod';
import { PolicyLoadError, type PolicyProblem } from '../problems.js';
import { nodePolicyFs, readYamlSources, type PolicyFs } from './load-policies.js';
import type { Principal, Resource } from './policy-types.js';
import { parseYamlSource, sortByPlace, type SourceFile } from './yaml-source.js';

/** What a test expects of one action. */
export type Verdict = 'allow' | 'deny';

/** One test with its references resolved. */
export interface PolicyTestCase {
  name: string;
  principal: Principal;
  resource: Resource;
  /** The check's time; undefined means the runner's `nowMs`. */
  timeMs: number | undefined;
  requestAttr: Record<string, unknown> | undefined;
  expected: Readonly<Record<string, Verdict>>;
}

/** A suite of policy tests from one file. */
export interface PolicyTestSuite {
  file: string;
  name: string;
  tests: readonly PolicyTestCase[];
}

const name = z.string().trim().min(1, 'must not be empty');
const attr = z.record(z.string(), z.unknown());
// Explicit offsets only: "2026-01-01T10:00:00" would mean a different instant on every machine.
const time = z.iso.datetime({ offset: true });

const suiteSchema = z.strictObject({
  name,
  description: z.string().optional(),
  /** Default time for the suite's tests. */
  time: time.optional(),
  principals: z.record(z.string(), z.strictObject({ id: name, roles: z.array(name), attr: attr.optional() })),
  resources: z.record(z.string(), z.strictObject({ kind: name, id: name, attr: attr.optional() })),
  tests: z.array(z.strictObject({
    name,
    principal: name,
    resource: name,
    time: time.optional(),
    request: z.strictObject({ attr }).optional(),
    expected: z.record(name, z.enum(['allow', 'deny'])).refine((e) => Object.keys(e).length > 0, 'must list at least one action'),
  })).min(1, 'must hold at least one test'),
});

/** Validates test-suite files and resolves their principal and resource references; throws PolicyLoadError listing every problem. */
export function parsePolicyTestSuites(sources: readonly SourceFile[]): PolicyTestSuite[] {
  const problems: PolicyProblem[] = [];
  const suites: PolicyTestSuite[] = [];
  for (const source of [...sources].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    const result = parseYamlSource(source, suiteSchema);
    if (!result.ok) {
      problems.push(...result.problems);
      continue;
    }
    const { value, problemAt } = result.parsed;
    const fileProblems: PolicyProblem[] = [];
    const seen = new Set<string>();
    const tests = value.tests.map((test, i): PolicyTestCase | undefined => {
      // Failures are reported by suite and test name, so a repeated name would hide which one failed.
      if (seen.has(test.name)) fileProblems.push(problemAt(['tests', i, 'name'], `test name "${test.name}" is used twice in this suite`));
      seen.add(test.name);
      const principal = Object.hasOwn(value.principals, test.principal) ? value.principals[test.principal] : undefined;
      const resource = Object.hasOwn(value.resources, test.resource) ? value.resources[test.resource] : undefined;
      if (principal === undefined) fileProblems.push(problemAt(['tests', i, 'principal'], `unknown principal "${test.principal}" (defined: ${Object.keys(value.principals).join(', ') || 'none'})`));
      if (resource === undefined) fileProblems.push(problemAt(['tests', i, 'resource'], `unknown resource "${test.resource}" (defined: ${Object.keys(value.resources).join(', ') || 'none'})`));
      if (principal === undefined || resource === undefined) return undefined;
      const at = test.time ?? value.time;
      return { name: test.name, principal, resource, timeMs: at === undefined ? undefined : Date.parse(at), requestAttr: test.request?.attr, expected: test.expected };
    });
    problems.push(...sortByPlace(fileProblems));
    if (fileProblems.length === 0) suites.push({ file: source.file, name: value.name, tests: tests as PolicyTestCase[] });
  }
  if (problems.length > 0) throw new PolicyLoadError(problems, 'policy test set');
  return suites;
}

/** Loads every `*.yaml`/`*.yml` test suite in `dir` (e.g. `policies/tests`). */
export async function loadPolicyTestSuites(dir: string, fs: PolicyFs = nodePolicyFs): Promise<PolicyTestSuite[]> {
  return parsePolicyTestSuites(await readYamlSources(dir, fs, 'policy test set'));
}
