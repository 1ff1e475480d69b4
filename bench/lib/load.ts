// Drives autocannon from the (pinned) runner process and condenses its results.
import autocannon from 'autocannon';
import { busyPercent, readCpuTimes, waitForQuiet } from './cpu.js';
import { processCpuSeconds } from './processes.js';
import { median, medianIndex, sleep } from './stats.js';
import type { RunStats, ScenarioResult, Settings, Warmup } from './types.js';

/** What one load run sends. */
export interface LoadSpec {
  url: string;
  connections: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Called before every request (e.g. to put a different token on each); must return the request. */
  setupRequest?: (request: autocannon.Request) => autocannon.Request;
}

/** Which process and cores to account CPU for during a run. */
export interface Watch { serverPid?: number; serverCore: number; loadgenCore: number }

/** How a scenario is repeated, and how it avoids other processes' load: the run-shape settings, plus the per-scenario quiet wait and retry cap. */
export type Schedule = Pick<Settings, 'warmupSeconds' | 'maxWarmupSeconds' | 'warmupSettlePercent' | 'runSeconds' | 'runs' | 'pauseMs' | 'quietBusyPercent'> & {
  /** Before the warm-up, wait up to this long for every core to be under quietBusyPercent. */
  quietWaitSeconds: number;
  /** A contended run is repeated, at most this many times per scenario. */
  maxRetries: number;
};

/** Other processes' busy share of a bench core above which a run is contended (loopback softirq alone stays well below). */
export const CONTENDED_PERCENT = 20;
/** Load-generator CPU share above which autocannon itself may be what limits the rate. */
export const LOADGEN_BOUND_PERCENT = 85;

/**
 * True when other processes took a noticeable share of the server core, or of the load-generator
 * core while that core was nearly full (when it has room to spare, their work cannot slow the run).
 */
export function isContended(run: RunStats): boolean {
  const loadgenCoreFull = run.loadgenCpuPercent + run.otherLoadgenCorePercent > LOADGEN_BOUND_PERCENT;
  return (run.otherServerCorePercent ?? 0) > CONTENDED_PERCENT || (loadgenCoreFull && run.otherLoadgenCorePercent > CONTENDED_PERCENT);
}

/** Server CPU time per answered request in a run, in microseconds (undefined without a CPU reading). */
export function serverMicrosecondsPerRequest(run: RunStats | undefined): number | undefined {
  if (run?.serverCpuPercent === undefined || run.reqPerSec <= 0) return undefined;
  return (run.serverCpuPercent / 100) * 1e6 / run.reqPerSec;
}

/** Runs autocannon once for `seconds` against `spec`, measuring the server's, the runner's and other processes' CPU use. */
export async function runLoad(spec: LoadSpec, seconds: number, watch: Watch): Promise<RunStats> {
  const { serverPid } = watch;
  const coresBefore = readCpuTimes();
  const serverCpuBefore = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
  const runnerCpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    duration: seconds,
    method: spec.method ?? 'GET',
    headers: spec.headers ?? {},
    ...(spec.body === undefined ? {} : { body: spec.body }),
    ...(spec.setupRequest ? { requests: [{ setupRequest: spec.setupRequest }] } : {}),
  });
  const wallSeconds = (performance.now() - wallBefore) / 1000;
  const runnerCpu = process.cpuUsage(runnerCpuBefore);
  const serverCpuAfter = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
  const coreBusy = busyPercent(coresBefore, readCpuTimes());
  const stats: RunStats = {
    reqPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    meanMs: result.latency.mean,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationSeconds: result.duration,
    loadgenCpuPercent: ((runnerCpu.user + runnerCpu.system) / 1e6 / wallSeconds) * 100,
    coreBusyPercent: coreBusy,
    otherLoadgenCorePercent: 0,
  };
  stats.otherLoadgenCorePercent = Math.max(0, (coreBusy[watch.loadgenCore] ?? 0) - stats.loadgenCpuPercent);
  if (serverCpuBefore !== undefined && serverCpuAfter !== undefined) {
    stats.serverCpuPercent = ((serverCpuAfter - serverCpuBefore) / wallSeconds) * 100;
    stats.otherServerCorePercent = Math.max(0, (coreBusy[watch.serverCore] ?? 0) - stats.serverCpuPercent);
  }
  return stats;
}

/**
 * Warms up until the rate settles: JIT tier-up (and WebAssembly tier-up in PGlite) can take
 * several seconds, and a run measured before it ends is slower than the steady state.
 */
async function warmUp(spec: LoadSpec, schedule: Schedule, watch: Watch): Promise<Warmup> {
  const slices: RunStats[] = [await runLoad(spec, schedule.warmupSeconds, watch)];
  let seconds = schedule.warmupSeconds;
  let settled = false;
  while (seconds < schedule.maxWarmupSeconds) {
    slices.push(await runLoad(spec, 1, watch));
    seconds += 1;
    const [previous, last] = slices.slice(-2).map((s) => s.reqPerSec) as [number, number];
    if (previous > 0 && Math.abs(last - previous) / previous * 100 < schedule.warmupSettlePercent) {
      settled = true;
      break;
    }
  }
  return {
    seconds, settled, sliceRates: slices.map((s) => s.reqPerSec),
    non2xx: slices.reduce((n, s) => n + s.non2xx, 0), errors: slices.reduce((n, s) => n + s.errors, 0),
  };
}

/** Warm-up (discarded), then `runs` measured runs (a contended run is redone, within maxRetries); reports the median req/s and that run's latencies. */
export async function runScenario(id: string, title: string, spec: LoadSpec, schedule: Schedule, watch: Watch): Promise<ScenarioResult> {
  const quiet = await waitForQuiet(schedule.quietBusyPercent, schedule.quietWaitSeconds);
  process.stderr.write(`bench: ${title}: warm-up`);
  const warmup = await warmUp(spec, schedule, watch);
  process.stderr.write(` ${warmup.seconds}s (${warmup.sliceRates.map(Math.round).join(' > ')} req/s)`);
  const runs: RunStats[] = [];
  let retries = 0;
  while (runs.length < schedule.runs) {
    await sleep(schedule.pauseMs);
    const run = await runLoad(spec, schedule.runSeconds, watch);
    if (isContended(run) && retries < schedule.maxRetries) {
      retries++;
      process.stderr.write(`, contended run discarded (${Math.round(run.reqPerSec)} req/s)`);
      continue;
    }
    runs.push(run);
    process.stderr.write(`, run ${runs.length}: ${Math.round(run.reqPerSec)} req/s`);
  }
  process.stderr.write('\n');
  const notes: string[] = [];
  if (!quiet.quiet) notes.push(`machine not quiet before the warm-up (per-core busy ${quiet.busy.map((b) => `${Math.round(b)}%`).join(', ')})`);
  if (!warmup.settled) notes.push(`warm-up stopped at ${warmup.seconds} s before the rate settled (slices: ${warmup.sliceRates.map(Math.round).join(', ')} req/s)`);
  if (retries > 0) notes.push(`${retries} contended run(s) discarded and redone`);
  const rates = runs.map((r) => r.reqPerSec);
  const mid = runs[medianIndex(rates)]!;
  if (mid.loadgenCpuPercent > LOADGEN_BOUND_PERCENT) {
    notes.push(`the load generator used ${Math.round(mid.loadgenCpuPercent)}% of its core in the median run: this rate may be limited by autocannon, not the server (server CPU ${Math.round(mid.serverCpuPercent ?? 0)}%)`);
  }
  return {
    id, title, runs, warmup,
    medianReqPerSec: median(rates),
    p50Ms: mid.p50Ms,
    p99Ms: mid.p99Ms,
    non2xxTotal: runs.reduce((n, r) => n + r.non2xx, 0),
    errorsTotal: runs.reduce((n, r) => n + r.errors, 0),
    notes,
  };
}
