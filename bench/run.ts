// `npm run bench`: a reproducible side-by-side benchmark of Portcullis against bare Fastify and an
// Express tutorial stack. Servers run pinned to core 0, this runner (the load generator) to core 1.
// Writes bench/results/<YYYY-MM-DD>-core.md, latest-core.md and latest-core.json.
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
import { evaluateTargets } from './lib/targets.js';
import type { BenchResults, ScenarioResult, Settings } from './lib/types.js';
import { benchBareFastify, benchExpressPeer } from './scenarios/peers.js';
import { benchPortcullis } from './scenarios/portcullis.js';
import { measureVerifyRates } from './scenarios/verify.js';

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
const started = performance.now();
// Read before the servers start: the commit (and src/ state) they run.
const machine = machineInfo(new Date());
const tmp = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
const errors: string[] = [];
const scenarios: ScenarioResult[] = [];
let results: BenchResults | undefined;
try {
  const peer = makePeerCredentials(tmp);
  const add = (r: ScenarioResult | undefined): void => { if (r) scenarios.push(r); };
  add(await attempt('bare fastify', errors, () => benchBareFastify(SETTINGS)));
  add(await attempt('express peer', errors, () => benchExpressPeer(SETTINGS, peer)));
  const verify = await attempt('raw verify rates', errors, () => measureVerifyRates(SETTINGS, peer));
  const portcullis = await attempt('portcullis', errors, () => benchPortcullis(SETTINGS, tmp, verify, errors));
  scenarios.push(...(portcullis?.scenarios ?? []));
  results = {
    machine,
    method: { ...SETTINGS, mintedTokens: portcullis?.mintedTokens, mintSeconds: portcullis?.mintSeconds },
    scenarios, verify, loginBurst: portcullis?.loginBurst, idle: portcullis?.idle ?? {},
    targets: evaluateTargets(scenarios, verify, portcullis?.loginBurst),
    startQuiet, loadAverageStart, loadAverageEnd: loadavg(),
    errors, elapsedSeconds: (performance.now() - started) / 1000,
  };
} finally {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}

const path = writeReport(results, join(REPO_ROOT, 'bench', 'results'));
process.stderr.write(`bench: wrote ${path} (and latest-core.md, latest-core.json)\n`);
for (const t of results.targets) process.stderr.write(`bench: ${t.pass === undefined ? 'N/A ' : t.pass ? 'PASS' : 'FAIL'} ${t.name}: ${t.measured}\n`);
// Missed targets only get reported; a step that could not run at all is an error.
process.exit(errors.length > 0 ? 1 : 0);
