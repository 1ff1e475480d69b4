/** Public surface of the policy module: load, check, reload and test resource policies. */
export { formatPolicyProblem, PolicyLoadError, policyProblems, type PolicyProblem } from './problems.js';
export type { CheckInput, CompiledPolicy, Decision, PolicySet, Principal, RequestFacts, Resource } from './service/policy-types.js';
export { compilePolicies } from './service/compile-policies.js';
export { loadPolicies, nodePolicyFs, type PolicyFs } from './service/load-policies.js';
export { checkResource, NO_POLICY } from './service/check-resource.js';
export { createPolicyStore, type PolicyStore, type PolicyStoreOptions, type WatchDirectory } from './service/policy-store.js';
export { loadPolicyTestSuites, parsePolicyTestSuites, type PolicyTestCase, type PolicyTestSuite, type Verdict } from './service/policy-test-suites.js';
export { formatPolicyTestReport, runPolicyTests, type PolicyTestFailure, type PolicyTestResult } from './service/run-policy-tests.js';
export type { SourceFile } from './service/yaml-source.js';
export { authzRoutes } from './api/authz.routes.js';
export { createCheckAuthorization, DECISION_API_RESOURCE, type DecisionCaller } from './service/check-authorization.js';
