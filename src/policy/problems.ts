import { defineProblems, ProblemError } from '../platform/errors/problem.js';

/** The policy module's error catalogue. */
export const policyProblems = defineProblems({
  POLICY_INVALID: { status: 400, title: 'The policy set is not valid' },
});

/** One problem found while loading policies or policy tests, located as precisely as the source allows. */
export interface PolicyProblem {
  /** The file as it was named to the loader, e.g. `policies/document.yaml`. */
  file: string;
  /** 1-based line and column in the file, when the problem can be pinned to a place. */
  line?: number;
  col?: number;
  /** Where in the document, e.g. `resourcePolicy.rules[1].condition`; empty for the whole file. */
  path: string;
  message: string;
}

/** Renders a problem compiler-style: `file:line:col: path: message`, leaving out the parts that are unknown. */
export function formatPolicyProblem(problem: PolicyProblem): string {
  return `${placeOf(problem)}: ${problem.message}`;
}

function placeOf(problem: PolicyProblem): string {
  const place = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.col ?? 1}`;
  return problem.path === '' ? place : `${place}: ${problem.path}`;
}

/**
 * Thrown when a policy set (or a set of policy test suites) cannot be loaded; lists every
 * problem in every file, so an operator fixes them in one pass rather than one per restart.
 */
export class PolicyLoadError extends Error {
  readonly code = policyProblems.POLICY_INVALID.code;
  readonly problems: readonly PolicyProblem[];

  constructor(problems: readonly PolicyProblem[], what = 'policy set') {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`the ${what} is not valid (${count}):\n${problems.map((p) => `  ${formatPolicyProblem(p)}`).join('\n')}`);
    this.name = 'PolicyLoadError';
    this.problems = problems;
  }

  /** The same problems as an RFC 9457 problem, for routes that accept policies from a client. */
  toProblemError(): ProblemError {
    return new ProblemError(policyProblems.POLICY_INVALID, {
      errors: this.problems.map((p) => ({ path: placeOf(p), message: p.message })),
      cause: this,
    });
  }
}
