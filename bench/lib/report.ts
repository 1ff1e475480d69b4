// Renders BenchResults as Markdown and writes the dated report, latest-core.md and latest-core.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSuspect } from './targets.js';
import { CONTENDED_PERCENT, isContended, LOADGEN_BOUND_PERCENT, serverMicrosecondsPerRequest } from './load.js';
import type { BenchResults, ScenarioResult, VerifyRates } from './types.js';

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number | undefined): string => (n === undefined ? 'n/a' : n.toFixed(0));
const secMs = (s: number | undefined): string => (s === undefined ? 'n/a' : `${(s * 1000).toFixed(2)} ms`);
const mib = (b: number | undefined): string => (b === undefined ? 'n/a' : `${(b / 1024 / 1024).toFixed(1)} MiB`);
const ratio = (a: number, b: number | undefined): string => (b ? `${(a / b).toFixed(2)}x` : 'n/a');
const cpu = (p: number | undefined): string => (p === undefined ? 'n/a' : `${Math.round(p)}%`);

function contentionBanner(r: BenchResults): string[] {
  const contended = r.scenarios.filter((s) => s.runs.some(isContended)).map((s) => s.id);
  const verifyShares = Object.values(r.verify?.cpuPercent ?? {});
  const verifyStarved = verifyShares.some((p) => p < 90);
  const lines: string[] = [];
  if (!r.startQuiet.quiet) lines.push(`- The machine was not quiet when the bench started (per-core busy ${r.startQuiet.busy.map((b) => `${Math.round(b)}%`).join(', ')} after waiting ${r.startQuiet.waitedSeconds.toFixed(0)} s).`);
  if (contended.length) lines.push(`- Other processes used more than ${CONTENDED_PERCENT}% of a bench core during: ${contended.join(', ')} (see the "Other busy" column).`);
  if (verifyStarved) lines.push('- The raw-verification process got less than 90% of its core for at least one method.');
  if (r.loginBurst?.contended) lines.push('- Other processes took a bench core during the login burst.');
  if (!lines.length) return [];
  return ['> **WARNING: contended machine.** These numbers are not a clean measurement; rerun on a quiet machine.', '', ...lines, ''];
}

/** The machine table every report starts with. */
export function machineSection(r: Pick<BenchResults, 'machine' | 'loadAverageStart' | 'loadAverageEnd'>): string[] {
  const m = r.machine;
  return [
    '## Machine', '',
    '| | |', '|---|---|',
    `| Date (UTC) | ${m.date} |`,
    `| Node | ${m.node} |`,
    `| CPU | ${m.cpuModel}, ${m.cores} cores |`,
    `| Kernel | ${m.kernel} |`,
    `| Memory | ${(m.memTotalBytes / 1024 ** 3).toFixed(1)} GiB |`,
    `| Commit | ${m.gitCommit} |`,
    `| Packages | ${Object.entries(m.packages).map(([k, v]) => `${k} ${v}`).join(', ')} |`,
    `| Load average at start / end | ${r.loadAverageStart.map((l) => l.toFixed(2)).join(' ')} / ${r.loadAverageEnd.map((l) => l.toFixed(2)).join(' ')} |`,
    '',
  ];
}

function methodSection(r: BenchResults): string[] {
  const s = r.method;
  return [
    '## Method', '',
    `- Servers run one at a time, each pinned to core ${s.serverCore} with \`taskset -c ${s.serverCore}\` (all its threads, libuv pool included). The runner, and autocannon inside it, is re-executed under \`taskset -c ${s.loadgenCore}\` (its allowed CPUs: \`${r.machine.runnerCpus}\`).`,
    `- autocannon ${r.machine.packages.autocannon ?? ''}, programmatic, ${s.connections} connections, pipelining ${s.pipelining}, loopback 127.0.0.1 only.`,
    `- Each scenario: warm-up (discarded) of ${s.warmupSeconds} s, then 1 s slices until two slices in a row differ by less than ${s.warmupSettlePercent}% (at most ${s.maxWarmupSeconds} s in all; JIT and PGlite's WebAssembly tier-up take a few seconds), then ${s.runs} runs of ${s.runSeconds} s, ${s.pauseMs} ms apart. Reported: the MEDIAN req/s of the runs (autocannon's mean of per-second samples); p50/p99 latency are those of the median run (autocannon records latency in whole milliseconds). Ratios use numbers from this same bench run: absolute rates on a shared VM can drift between invocations (and even between scenarios), so compare ratios, and rerun before trusting a small difference.`,
    `- Before starting, the runner waits up to ${s.quietWaitSeconds} s for every core to be under ${s.quietBusyPercent}% busy (waited ${r.startQuiet.waitedSeconds.toFixed(0)} s, quiet: ${r.startQuiet.quiet ? 'yes' : 'NO'}), and up to ${s.scenarioQuietWaitSeconds} s before each scenario. A contended run (see below) is discarded and redone, at most ${s.maxContendedRetries} times per scenario; runs still contended are kept and flagged.`,
    `- Server CPU: utime+stime of the server process from \`/proc/<pid>/stat\` over the run, as % of one core (100% = core saturated). Load-gen CPU: the runner's \`process.cpuUsage()\`; near 100% means the load generator, not the server, may be the limit. "Other busy": busy time of the server core / load-gen core (\`/proc/stat\`, steal included) not used by the server / runner; it includes loopback softirq work. A run is contended when that exceeds ${CONTENDED_PERCENT}% on the server core, or on the load-gen core while that core is more than ${LOADGEN_BOUND_PERCENT}% busy.`,
    `- Uncached whoami: ${s.mintedTokens === undefined ? 'n/a' : int(s.mintedTokens)} distinct access tokens minted by \`bench/mint-tokens.ts\` (the app's own registry, same data dir and port, ${s.mintSeconds === undefined ? 'n/a' : s.mintSeconds.toFixed(1)} s) before the server started; count = best raw jose ES256 rate (the server verifies each token with jose on the same core, so it cannot go faster) x 1.15 x (longest warm-up + runs x duration), at least 60,000. One token per request, in order; cache hits are read from \`portcullis_verified_token_cache_total\`.`,
    `- Raw verification: \`bench/verify-rate.ts\` on core ${s.serverCore}, ~${s.verifySeconds} s per method, the same ES256 JWT (the Express peer's) every time.`,
    `- Login burst: ${s.loginConcurrency} connections POSTing \`/v1/auth/login\` (same account, correct password) for ${s.loginSeconds} s after a ${s.loginWarmupSeconds} s warm-up; \`/metrics\` is scraped just before and just after.`,
    '',
  ];
}

function medianRun(s: ScenarioResult | undefined): ScenarioResult['runs'][number] | undefined {
  return s ? s.runs.find((x) => x.reqPerSec === s.medianReqPerSec) ?? s.runs[0] : undefined;
}

/** Throughput table of autocannon scenarios, with ratios to bare Fastify and the Express peer of the same run. */
export function resultsTable(r: Pick<BenchResults, 'scenarios'>): string[] {
  const bare = r.scenarios.find((s) => s.id === 'bare-fastify')?.medianReqPerSec;
  const peer = r.scenarios.find((s) => s.id === 'express-peer')?.medianReqPerSec;
  const row = (s: ScenarioResult): string => {
    const mid = medianRun(s);
    const flags = `${isSuspect(s) ? ' **(SUSPECT: non-2xx/errors)**' : ''}${s.runs.some(isContended) ? ' **(CONTENDED)**' : ''}`;
    const other = mid ? `${cpu(mid.otherServerCorePercent)} / ${cpu(mid.otherLoadgenCorePercent)}` : 'n/a';
    const costUs = serverMicrosecondsPerRequest(mid);
    return `| ${s.title}${flags} | ${int(s.medianReqPerSec)} | ${ms(s.p50Ms)} | ${ms(s.p99Ms)} | ${ratio(s.medianReqPerSec, bare)} | ${ratio(s.medianReqPerSec, peer)} | ${s.non2xxTotal} (warm-up ${s.warmup.non2xx}) | ${s.warmup.seconds} s | ${s.runs.map((x) => int(x.reqPerSec)).join(' / ')} | ${cpu(mid?.serverCpuPercent)} | ${costUs === undefined ? 'n/a' : costUs.toFixed(1)} | ${cpu(mid?.loadgenCpuPercent)} | ${other} |`;
  };
  const cost = (id: string) => serverMicrosecondsPerRequest(medianRun(r.scenarios.find((s) => s.id === id)));
  const bareCost = cost('bare-fastify');
  const cachedCost = cost('whoami-cached');
  return [
    '## Throughput and latency', '',
    '| Scenario | Median req/s | p50 ms | p99 ms | Ratio to bare Fastify | Ratio to Express peer | non-2xx | Warm-up | Runs req/s | Server CPU | Server CPU µs per request | Load-gen CPU | Other busy (server core / load-gen core) |',
    '|---|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|',
    ...r.scenarios.map(row),
    '',
    // autocannon on one core often saturates before bare Fastify does; the rate ratio then flatters
    // whatever is compared with bare Fastify. What the server core spends per request does not depend on that.
    ...(bareCost !== undefined && cachedCost !== undefined
      ? [`- Server cost per request, whatever limited the rate: bare Fastify ${bareCost.toFixed(1)} µs, cached whoami ${cachedCost.toFixed(1)} µs of CPU; the one core could serve cached whoami at ${((bareCost / cachedCost) * 100).toFixed(1)}% of bare Fastify's rate if both ran it flat out.`]
      : []),
    ...r.scenarios.flatMap((s) => s.notes.map((n) => `- ${s.id}: ${n}`)),
    '',
  ];
}

/**
 * What the uncached target can reach at best, from this run's own figures: a request that must
 * verify a new signature costs at least one verification plus what bare Fastify spends on a
 * request, on the same core; and tokens are verified with jose (the brief's "jose only"), whose
 * best rate is below node:crypto's.
 */
function verificationCeilings(v: VerifyRates, bareReqPerSec: number | undefined): string[] {
  const joseBest = Math.max(v.joseEs256Sequential, v.joseEs256Concurrent32);
  const lines = [`- Ceiling with jose, even if HTTP cost nothing: best jose rate / node:crypto rate = ${((joseBest / v.nodeCryptoEs256) * 100).toFixed(1)}%.`];
  if (bareReqPerSec) {
    // Per request: 1/raw (verify) + 1/bare (HTTP) seconds; as a share of the raw rate: bare / (raw + bare).
    const anyVerifier = bareReqPerSec / (v.nodeCryptoEs256 + bareReqPerSec);
    const withJose = 1 / (1 / joseBest + 1 / bareReqPerSec) / v.nodeCryptoEs256;
    lines.push(`- Ceiling on one core that also serves the HTTP request (verify + bare Fastify's cost per request): ${(anyVerifier * 100).toFixed(1)}% with node:crypto itself, ${(withJose * 100).toFixed(1)}% with jose.${anyVerifier < 0.9 ? ' The 90% target lies above both.' : ''}`);
  }
  return lines;
}

function verifySection(r: BenchResults): string[] {
  const v = r.verify;
  if (!v) return ['## Raw signature verification', '', 'n/a (the measurement failed, see Errors)', ''];
  const uncached = r.scenarios.find((s) => s.id === 'whoami-uncached')?.medianReqPerSec;
  return [
    `## Raw signature verification (core ${r.method.serverCore}, one process)`, '',
    '| Method | ops/s | CPU share of the measuring process |', '|---|--:|--:|',
    `| node:crypto \`verify('sha256', …, { dsaEncoding: 'ieee-p1363' })\` ES256 | ${int(v.nodeCryptoEs256)} | ${cpu(v.cpuPercent.nodeCryptoEs256)} |`,
    `| jose \`jwtVerify\` ES256, CryptoKey, 1 in flight | ${int(v.joseEs256Sequential)} | ${cpu(v.cpuPercent.joseEs256Sequential)} |`,
    `| jose \`jwtVerify\` ES256, CryptoKey, 32 in flight | ${int(v.joseEs256Concurrent32)} | ${cpu(v.cpuPercent.joseEs256Concurrent32)} |`,
    `| node:crypto EdDSA (Ed25519), reference | ${int(v.nodeCryptoEdDsa)} | ${cpu(v.cpuPercent.nodeCryptoEdDsa)} |`,
    '',
    uncached === undefined
      ? '- uncached whoami / raw ES256 verify rate: n/a'
      : `- **uncached whoami / raw ES256 verify rate (node:crypto): ${((uncached / v.nodeCryptoEs256) * 100).toFixed(1)}%** (vs jose 1 in flight: ${((uncached / v.joseEs256Sequential) * 100).toFixed(1)}%, vs jose 32 in flight: ${((uncached / v.joseEs256Concurrent32) * 100).toFixed(1)}%)`,
    ...verificationCeilings(v, r.scenarios.find((s) => s.id === 'bare-fastify')?.medianReqPerSec),
    '',
  ];
}

function eventLoopSection(r: BenchResults): string[] {
  const b = r.loginBurst;
  const lines = [`## Event-loop delay under ${r.method.loginConcurrency} concurrent logins`, ''];
  if (!b) return [...lines, 'n/a (the measurement failed, see Errors)', ''];
  return [
    ...lines,
    '| | |', '|---|--:|',
    `| \`nodejs_eventloop_lag_p99_seconds\` | **${secMs(b.eventLoopP99Seconds)}** |`,
    `| \`nodejs_eventloop_lag_p50_seconds\` | ${secMs(b.eventLoopP50Seconds)} |`,
    `| \`nodejs_eventloop_lag_mean_seconds\` | ${secMs(b.eventLoopMeanSeconds)} |`,
    `| \`nodejs_eventloop_lag_max_seconds\` | ${secMs(b.eventLoopMaxSeconds)} |`,
    `| idle baseline p50 / p99 (${r.method.idleSeconds} s idle, same process) | ${secMs(r.idle.eventLoopP50Seconds)} / ${secMs(r.idle.eventLoopP99Seconds)} |`,
    `| logins/s | ${b.loginsPerSec.toFixed(1)} |`,
    `| login latency p50 / p99 | ${ms(b.p50Ms)} ms / ${ms(b.p99Ms)} ms |`,
    `| logins answered (non-2xx, errors) | ${b.total} (${b.non2xx}, ${b.errors}) |`,
    `| server CPU / other busy on the server core | ${cpu(b.serverCpuPercent)} / ${cpu(b.otherServerCorePercent)}${b.contended ? ' **(CONTENDED)**' : ''} |`,
    '',
    `What the number means: Portcullis calls prom-client's \`collectDefaultMetrics({ eventLoopMonitoringPrecision: ${b.monitoringResolutionMs} })\`, which keeps a \`perf_hooks.monitorEventLoopDelay({ resolution: ${b.monitoringResolutionMs} })\` histogram. In prom-client 15 (\`lib/metrics/eventLoopLag.js\`) the \`collect()\` of \`nodejs_eventloop_lag_seconds\` copies min/max/mean/stddev/p50/p90/p99 of that histogram into their gauges and then calls \`histogram.reset()\`; it runs on every scrape. So the scrape after the burst reports the distribution over exactly the interval since the scrape before it, i.e. the burst. Node's histogram samples the gap between consecutive ticks of a ${b.monitoringResolutionMs} ms timer, so it includes the ${b.monitoringResolutionMs} ms interval itself: an idle loop reads about ${b.monitoringResolutionMs} ms (see the idle baseline), and the delay the logins add is roughly the reading minus ${b.monitoringResolutionMs} ms. The 20 ms target is evaluated on the raw reading, as specified. (Up to the run of 2026-11-23 08:12 the resolution was 10 ms, whose readings carry a 10 ms floor.) Password hashing runs on worker threads at nice 10, so the scheduler runs the event loop first when both want the server's one core.`,
    '',
  ];
}

/** The targets table. */
export function targetsSection(r: Pick<BenchResults, 'targets'>): string[] {
  return [
    '## Targets', '',
    '| Target | Measured | Result |', '|---|--:|---|',
    ...r.targets.map((t) => `| ${t.name} | ${t.measured} | ${t.pass === undefined ? 'N/A' : t.pass ? 'PASS' : 'FAIL'}${t.suspect ? ' (suspect: non-2xx or errors)' : ''} |`),
    '',
    'A missed target is reported here; it does not make the bench exit non-zero.',
    '',
  ];
}

/** Renders the whole report. */
/** The alternating cached-whoami vs bare-Fastify rounds. */
function pairedSection(r: BenchResults): string[] {
  const p = r.paired;
  if (!p) return [];
  const us = (x: number | undefined): string => (x === undefined ? 'n/a' : x.toFixed(1));
  return [
    '## Cached whoami vs bare Fastify, alternating', '',
    `Both servers pinned to core ${r.method.serverCore} at once; each round runs bare Fastify for ${p.roundSeconds} s with Portcullis stopped (SIGSTOP), then cached whoami for ${p.roundSeconds} s with bare Fastify stopped, after ${p.warmupSeconds} s of warm-up each. The scenarios above run minutes apart, and a shared VM's speed drifts over minutes; here the two runs of a round are seconds apart, so the ratio of each round compares like with like.`, '',
    '| Round | Bare req/s | Whoami req/s | Ratio | Bare load-gen CPU | Server µs/request bare / whoami | non-2xx + errors |',
    '|--:|--:|--:|--:|--:|--:|--:|',
    ...p.rounds.map((x, i) => `| ${i + 1} | ${int(x.bareReqPerSec)} | ${int(x.portcullisReqPerSec)} | ${(x.ratio * 100).toFixed(1)}% | ${cpu(x.bareLoadgenCpuPercent)} | ${us(x.bareCpuMicroseconds)} / ${us(x.portcullisCpuMicroseconds)} | ${x.non2xx} |`),
    '',
    `- **Median ratio of the rounds: ${(p.medianRatio * 100).toFixed(1)}%**${p.medianCostRatio === undefined ? '' : `; by server CPU per request (bare / whoami), median ${(p.medianCostRatio * 100).toFixed(1)}%`}.`,
    '',
  ];
}

export function renderMarkdown(r: BenchResults): string {
  return [
    `# Portcullis core benchmark, ${r.machine.date.slice(0, 10)}`, '',
    ...contentionBanner(r),
    ...machineSection(r),
    ...methodSection(r),
    ...resultsTable(r),
    ...pairedSection(r),
    ...verifySection(r),
    ...eventLoopSection(r),
    '## Memory (embedded PGlite mode)', '',
    `- Idle RSS after start-up, a register, a login and a few requests, then ${r.method.idleSeconds} s idle (\`process_resident_memory_bytes\`): **${mib(r.idle.rssBytes)}**`,
    `- At that moment: V8 heap used ${mib(r.idle.heapUsedBytes)}, external memory (ArrayBuffers, WebAssembly memory such as PGlite's) ${mib(r.idle.externalBytes)}.`,
    `- For scale, right after start-up under the same \`node --import tsx\` loader: ${r.scenarios.filter((s) => s.serverRssAfterStartBytes !== undefined).map((s) => `${s.id} ${mib(s.serverRssAfterStartBytes)}`).join(', ') || 'n/a'}.`,
    `- RSS after the whole bench (verified-token cache full, many sessions): ${mib(r.idle.afterBenchRssBytes)}`,
    '',
    ...targetsSection(r),
    ...(r.errors.length ? ['## Errors', '', ...r.errors.map((e) => `- ${e.replaceAll('\n', ' ').slice(0, 2000)}`), ''] : []),
    `Total bench time: ${r.elapsedSeconds.toFixed(0)} s.`, '',
  ].join('\n');
}

/** Writes `<date>-core.md`, `latest-core.md` and `latest-core.json` to `dir`; returns the dated path. */
export function writeReport(r: BenchResults, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const markdown = renderMarkdown(r);
  const dated = join(dir, `${r.machine.date.slice(0, 10)}-core.md`);
  writeFileSync(dated, markdown);
  writeFileSync(join(dir, 'latest-core.md'), markdown);
  writeFileSync(join(dir, 'latest-core.json'), `${JSON.stringify(r, null, 2)}\n`);
  return dated;
}
