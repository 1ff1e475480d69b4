// `npm run bench [suite...]`: reproducible side-by-side benchmarks of Portcullis against bare Fastify
// (and, in the core suite, an Express tutorial stack). Servers run pinned to core 0, this runner (the
// load generator) to core 1. Suites: core (the default pipeline), policy (decisions in-process and over
// HTTP), distributed (PostgreSQL + Redis limiter vs in-process, Redis commands per request, --cluster 2;
// needs DATABASE_URL), audit (the admin audit query over 1M events on PostgreSQL; needs DATABASE_URL);
// all of them when none is named. Each writes bench/results/<date>-<suite>.md, latest-<suite>.md
// and latest-<suite>.json.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { attempt } from './lib/attempt.js';
import { waitForQuiet } from './lib/cpu.js';
import { makePeerCredentials } from './lib/keys.js';
import { machineInfo } from './lib/machine.js';
import { isPinned, reexecPinned } from './lib/pin.js';
import { assertTaskset, installCleanupHandlers, REPO_ROOT, stopAll } from './lib/processes.js';
import { writeReport } from './lib/report.js';
import { writeSuiteReport } from './lib/suite-report.js';
import { evaluateTargets } from './lib/targets.js';
import type { BenchResults, ScenarioResult, Settings, TargetCheck } from './lib/types.js';
import { benchBareFastify, benchExpressPeer } from './scenarios/peers.js';
import { benchPortcullis } from './scenarios/portcullis.js';
import { auditQuerySections, auditQueryTargets, benchAuditQuery } from './scenarios/audit-query.js';
import { benchDistributed, distributedSections, distributedTargets } from './scenarios/distributed.js';
import { benchPolicy, policySections, policyTargets } from './scenarios/policy.js';
import { measureVerifyRates } from './scenarios/verify.js';

const SUITES = ['core', 'policy', 'distributed', 'audit'] as const;
type Suite = (typeof SUITES)[number];
const named = process.argv.slice(2);
const unknown = named.filter((n) => !(SUITES as readonly string[]).includes(n));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown suite(s) ${unknown.join(', ')}; known: ${SUITES.join(', ')}\n`);
  process.exit(2);
}
const suites = new Set<Suite>(named.length > 0 ? (named as Suite[]) : SUITES);

const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

// BENCH_* variables shorten a run while working on the bench itself; the defaults are the reported method.
const SETTINGS: Settings = {
  serverCore: 0,
  loadgenCore: 1,
  connections: 50,
  pipelining: 1,
  warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', 2),
  maxWarmupSeconds: envNumber('BENCH_MAX_WARMUP_SECONDS', 8),
  warmupSettlePercent: 5,
  runSeconds: envNumber('BENCH_RUN_SECONDS', 5),
  runs: envNumber('BENCH_RUNS', 3),
  pauseMs: 300,
  verifySeconds: envNumber('BENCH_VERIFY_SECONDS', 3),
  loginConcurrency: 32,
  loginWarmupSeconds: 1,
  loginSeconds: envNumber('BENCH_LOGIN_SECONDS', 5),
  idleSeconds: 2,
  quietWaitSeconds: envNumber('BENCH_QUIET_WAIT_SECONDS', 30),
  quietBusyPercent: 15,
  scenarioQuietWaitSeconds: envNumber('BENCH_SCENARIO_QUIET_WAIT_SECONDS', 5),
  maxContendedRetries: 2,
};

if (!isPinned()) {
  assertTaskset();
  process.exit(await reexecPinned(SETTINGS.loadgenCore));
}

installCleanupHandlers();
const loadAverageStart = loadavg();
const startQuiet = await waitForQuiet(SETTINGS.quietBusyPercent, SETTINGS.quietWaitSeconds);
const tmp = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
const errors: string[] = [];
const written: string[] = [];
try {
  if (suites.has('core')) await coreSuite();
  if (suites.has('policy')) await policySuite();
  if (suites.has('distributed')) await distributedSuite();
  if (suites.has('audit')) await auditSuite();
} finally {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}

/** Bare Fastify, the Express peer, raw verification and the Portcullis pipeline. */
async function coreSuite(): Promise<void> {
  const started = performance.now();
  // Read before the servers start: the commit (and src/ state) they run.
  const machine = machineInfo(new Date());
  const scenarios: ScenarioResult[] = [];
  const peer = makePeerCredentials(tmp);
  const add = (r: ScenarioResult | undefined): void => { if (r) scenarios.push(r); };
  add(await attempt('bare fastify', errors, () => benchBareFastify(SETTINGS)));
  add(await attempt('express peer', errors, () => benchExpressPeer(SETTINGS, peer)));
  const verify = await attempt('raw verify rates', errors, () => measureVerifyRates(SETTINGS, peer));
  const portcullis = await attempt('portcullis', errors, () => benchPortcullis(SETTINGS, tmp, verify, errors));
  scenarios.push(...(portcullis?.scenarios ?? []));
  const results: BenchResults = {
    machine,
    method: { ...SETTINGS, mintedTokens: portcullis?.mintedTokens, mintSeconds: portcullis?.mintSeconds },
    scenarios, verify, loginBurst: portcullis?.loginBurst, paired: portcullis?.paired, idle: portcullis?.idle ?? {},
    targets: evaluateTargets(scenarios, verify, portcullis?.loginBurst, portcullis?.paired),
    startQuiet, loadAverageStart, loadAverageEnd: loadavg(),
    errors, elapsedSeconds: (performance.now() - started) / 1000,
  };
  written.push(writeReport(results, join(REPO_ROOT, 'bench', 'results')));
  report(results.targets);
}

/** What a side suite hands back for its report, from its outcome (undefined when it failed outright). */
interface SuiteParts { scenarios: ScenarioResult[]; sections: string[]; targets: TargetCheck[]; data: unknown }

/** Runs one side suite (optionally beside bare Fastify, for the ratio column) and writes its report. */
async function sideSuite<O>(
  suite: string, title: string, withBare: boolean,
  run: (suiteErrors: string[]) => Promise<O>, parts: (outcome: O | undefined) => SuiteParts,
): Promise<void> {
  const started = performance.now();
  const machine = machineInfo(new Date());
  const loadStart = loadavg();
  const suiteErrors: string[] = [];
  const bare = withBare ? await attempt('bare fastify', suiteErrors, () => benchBareFastify(SETTINGS)) : undefined;
  const outcome = await attempt(suite, suiteErrors, () => run(suiteErrors));
  const { scenarios, sections, targets, data } = parts(outcome);
  written.push(writeSuiteReport({
    suite, title, machine, loadAverageStart: loadStart, loadAverageEnd: loadavg(),
    scenarios: [...(bare ? [bare] : []), ...scenarios], sections, targets, errors: suiteErrors,
    elapsedSeconds: (performance.now() - started) / 1000, data,
  }, join(REPO_ROOT, 'bench', 'results')));
  errors.push(...suiteErrors);
  report(targets);
}

/** Policy decisions in-process and through the decision API, beside bare Fastify. */
function policySuite(): Promise<void> {
  return sideSuite('policy', 'Portcullis policy decision benchmark', true, (e) => benchPolicy(SETTINGS, tmp, e), (outcome = { scenarios: [] }) => ({
    scenarios: outcome.scenarios, sections: policySections(outcome, SETTINGS), targets: policyTargets(outcome),
    data: { settings: SETTINGS, inProcess: outcome.inProcess },
  }));
}

/** PostgreSQL + Redis: limiter ratio, Redis round trips, cluster 2 vs 1. */
function distributedSuite(): Promise<void> {
  return sideSuite('distributed', 'Portcullis distributed-mode benchmark', true, (e) => benchDistributed(SETTINGS, process.env.DATABASE_URL, e), (outcome = { scenarios: [], roundTrips: [] }) => ({
    scenarios: outcome.scenarios, sections: distributedSections(outcome), targets: distributedTargets(outcome),
    data: { settings: SETTINGS, roundTrips: outcome.roundTrips, skipped: outcome.skipped },
  }));
}

/** The admin audit query over 1M events on PostgreSQL. */
function auditSuite(): Promise<void> {
  return sideSuite('audit', 'Portcullis audit query benchmark', false, () => benchAuditQuery(SETTINGS, tmp, process.env.DATABASE_URL), (outcome = { timings: [] }) => ({
    scenarios: [], sections: auditQuerySections(outcome), targets: auditQueryTargets(outcome), data: outcome,
  }));
}

function report(targets: readonly TargetCheck[]): void {
  for (const t of targets) process.stderr.write(`bench: ${t.pass === undefined ? 'N/A ' : t.pass ? 'PASS' : 'FAIL'} ${t.name}: ${t.measured}\n`);
}

for (const path of written) process.stderr.write(`bench: wrote ${path}\n`);
// Missed targets only get reported; a step that could not run at all is an error.
process.exit(errors.length > 0 ? 1 : 0);
