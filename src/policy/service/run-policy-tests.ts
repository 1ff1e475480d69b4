import { checkResource } from './check-resource.js';
import type { PolicyTestSuite, Verdict } from './policy-test-suites.js';
import type { Decision, PolicySet } from './policy-types.js';

/** One action whose decision differed from the expectation, with what decided it. */
export interface PolicyTestFailure {
  suite: string;
  file: string;
  test: string;
  action: string;
  expected: Verdict;
  actual: Verdict;
  decidedBy: Decision;
}

/** Outcome of a run: `passed` counts action expectations met; every unmet one is in `failed`. */
export interface PolicyTestResult {
  passed: number;
  failed: PolicyTestFailure[];
}

/** Runs every test of every suite against a policy set; pure, `nowMs` is the time of tests that name none. */
export function runPolicyTests(policySet: PolicySet, suites: readonly PolicyTestSuite[], options: { nowMs: number }): PolicyTestResult {
  let passed = 0;
  const failed: PolicyTestFailure[] = [];
  for (const suite of suites) {
    for (const test of suite.tests) {
      const actions = Object.keys(test.expected);
      const decisions = checkResource(policySet, {
        principal: test.principal,
        resource: test.resource,
        actions,
        request: { timeMs: test.timeMs ?? options.nowMs, attr: test.requestAttr },
      });
      for (const action of actions) {
        const decision = decisions[action]!;
        const actual: Verdict = decision.allow ? 'allow' : 'deny';
        const expected = test.expected[action]!;
        if (actual === expected) passed++;
        else failed.push({ suite: suite.name, file: suite.file, test: test.name, action, expected, actual, decidedBy: decision });
      }
    }
  }
  return { passed, failed };
}

/** Renders a run for a terminal: one line per failed expectation naming the rule that decided, then the totals. */
export function formatPolicyTestReport(result: PolicyTestResult): string {
  const lines = result.failed.map((f) => {
    const by = `${f.decidedBy.policy} rule ${f.decidedBy.rule}`;
    const error = f.decidedBy.error === undefined ? '' : `; ${f.decidedBy.error}`;
    return `FAIL ${f.suite} > ${f.test} (${f.file}): "${f.action}" expected ${f.expected}, got ${f.actual} (decided by ${by}${error})`;
  });
  lines.push(`policy tests: ${result.passed} passed, ${result.failed.length} failed`);
  return lines.join('\n');
}
