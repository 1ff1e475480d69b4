// Portcullis itself: cached and uncached whoami, /me, a concurrent-login burst, and idle memory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import { attempt } from '../lib/attempt.js';
import { waitForQuiet } from '../lib/cpu.js';
import { getText, postJson } from '../lib/http.js';
import { isContended, runLoad, runScenario } from '../lib/load.js';
import { cleanEnv, freePort, type Managed, runToCompletion, withServer } from '../lib/processes.js';
import { promValue } from '../lib/prom.js';
import { sleep } from '../lib/stats.js';
import type { Idle, LoginBurst, PairedComparison, ScenarioResult, Settings, VerifyRates } from '../lib/types.js';
import { pairedWithBare } from './paired.js';
import { scheduleOf, watchOf } from './peers.js';
import { EVENT_LOOP_RESOLUTION_MS } from '../../src/platform/observability/metrics.js';

/** What the Portcullis part of the bench produced. */
export interface PortcullisOutcome {
  scenarios: ScenarioResult[];
  loginBurst?: LoginBurst;
  paired?: PairedComparison;
  idle: Idle;
  mintedTokens?: number;
  mintSeconds?: number;
}

const PASSWORD = 'violet kettle drums at midnight';
const MINT_EMAIL = 'bench-minted@example.com';
const HTTP_EMAIL = 'bench-http@example.com';
const ACCESS_TOKEN_TTL_MS = 600_000;

interface TokenPair { accessToken: string; refreshToken: string; tokenType: string; expiresIn: number }

/**
 * Enough distinct tokens that none repeats across the warm-up and the runs (brief: rate x duration x runs).
 * The server verifies every uncached token with jose on the same core, so jose's best raw rate (+15%)
 * bounds its rate. Redone (contended) runs may wrap around; the note says so, and since tokens are
 * used in order, a repeat comes hundreds of thousands of requests later: long evicted from the
 * verified-token cache (10,000 entries), as the cache counters confirm.
 */
export function tokensNeeded(settings: Settings, verify: VerifyRates | undefined): number {
  const ceiling = verify ? Math.max(verify.joseEs256Sequential, verify.joseEs256Concurrent32) : 20_000;
  const seconds = settings.maxWarmupSeconds + settings.runs * settings.runSeconds;
  return Math.max(60_000, Math.ceil(ceiling * seconds * 1.15));
}

/** Mints `count` access tokens for the Portcullis about to serve `dataDir` on `port` (roles: the account's, unless given). */
export async function mintTokens(dataDir: string, port: number, count: number, out: string, roles?: readonly string[]): Promise<{ tokens: string[]; seconds: number; mintedAt: number }> {
  process.stderr.write(`bench: minting ${count} access tokens for port ${port}\n`);
  const started = performance.now();
  const mintedAt = Date.now(); // the tokens' iat: they expire ACCESS_TOKEN_TTL_MS after this
  const stdout = await runToCompletion('mint-tokens', process.execPath, ['--import', 'tsx', 'bench/mint-tokens.ts'], cleanEnv({
    MINT_DATA_DIR: dataDir, MINT_PORT: String(port), MINT_COUNT: String(count), MINT_OUT: out, MINT_EMAIL, MINT_PASSWORD: PASSWORD,
    ...(roles ? { MINT_ROLES: roles.join(',') } : {}),
  }), 300_000);
  const summary = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { count?: number };
  const tokens = readFileSync(out, 'utf8').split('\n').filter((t) => t.length > 0);
  if (tokens.length !== count || summary.count !== count) throw new Error(`mint-tokens: expected ${count} tokens, got ${tokens.length}`);
  return { tokens, seconds: (performance.now() - started) / 1000, mintedAt };
}

async function cacheCounts(base: string): Promise<{ hit: number; miss: number }> {
  const text = await getText(`${base}/metrics`);
  return {
    hit: promValue(text, 'portcullis_verified_token_cache_total', { result: 'hit' }) ?? 0,
    miss: promValue(text, 'portcullis_verified_token_cache_total', { result: 'miss' }) ?? 0,
  };
}

/** Runs a scenario and notes how the verified-token cache answered during it (warm-up included). */
async function withCacheNote(base: string, run: () => Promise<ScenarioResult>): Promise<ScenarioResult> {
  const before = await cacheCounts(base);
  const result = await run();
  const after = await cacheCounts(base);
  result.notes.push(`verified-token cache during warm-up + runs: ${after.hit - before.hit} hits, ${after.miss - before.miss} misses`);
  return result;
}

async function loginBurst(settings: Settings, base: string, server: Managed): Promise<LoginBurst> {
  const spec = {
    url: `${base}/v1/auth/login`, connections: settings.loginConcurrency, method: 'POST' as const,
    headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: HTTP_EMAIL, password: PASSWORD }),
  };
  process.stderr.write(`bench: ${settings.loginConcurrency} concurrent logins: warm-up ${settings.loginWarmupSeconds}s, burst ${settings.loginSeconds}s\n`);
  await runLoad(spec, settings.loginWarmupSeconds, watchOf(settings, server.pid));
  await sleep(2000); // let the warm-up's in-flight logins finish before the histogram is reset
  await waitForQuiet(settings.quietBusyPercent, settings.scenarioQuietWaitSeconds);
  await getText(`${base}/metrics`); // prom-client resets the event-loop histogram on every scrape
  const burst = await runLoad(spec, settings.loginSeconds, watchOf(settings, server.pid));
  const text = await getText(`${base}/metrics`);
  const result: LoginBurst = {
    concurrency: settings.loginConcurrency, durationSeconds: burst.durationSeconds,
    loginsPerSec: burst.reqPerSec, p50Ms: burst.p50Ms, p99Ms: burst.p99Ms, total: burst.total, non2xx: burst.non2xx, errors: burst.errors,
    monitoringResolutionMs: EVENT_LOOP_RESOLUTION_MS, contended: isContended(burst),
  };
  if (burst.serverCpuPercent !== undefined) result.serverCpuPercent = burst.serverCpuPercent;
  if (burst.otherServerCorePercent !== undefined) result.otherServerCorePercent = burst.otherServerCorePercent;
  const read = (name: string): number | undefined => promValue(text, name);
  const p50 = read('nodejs_eventloop_lag_p50_seconds');
  const p99 = read('nodejs_eventloop_lag_p99_seconds');
  const max = read('nodejs_eventloop_lag_max_seconds');
  const mean = read('nodejs_eventloop_lag_mean_seconds');
  if (p50 !== undefined) result.eventLoopP50Seconds = p50;
  if (p99 !== undefined) result.eventLoopP99Seconds = p99;
  if (max !== undefined) result.eventLoopMaxSeconds = max;
  if (mean !== undefined) result.eventLoopMeanSeconds = mean;
  return result;
}

/** Mints tokens, starts Portcullis on the server core, and runs every Portcullis measurement against it. */
export async function benchPortcullis(settings: Settings, tmp: string, verify: VerifyRates | undefined, errors: string[]): Promise<PortcullisOutcome> {
  const outcome: PortcullisOutcome = { scenarios: [], idle: {} };
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = join(tmp, 'portcullis-data');
  const count = tokensNeeded(settings, verify);
  const minted = await mintTokens(dataDir, port, count, join(tmp, 'tokens.txt'));
  outcome.mintedTokens = count;
  outcome.mintSeconds = minted.seconds;
  const tokens = minted.tokens;
  // One token is spent on a correctness probe; it leaves the pool so the probe cannot make a run's first request a cache hit.
  const probeToken = tokens.pop()!;

  const env = cleanEnv({
    PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_PORT: String(port), PORTCULLIS_LOG_LEVEL: 'warn',
    PORTCULLIS_RATE_LIMIT__AUTHENTICATED__POINTS: '1000000000', PORTCULLIS_LOGIN_PROTECTION__REGISTRATION__POINTS: '1000',
  });
  const run = withServer({
    name: 'portcullis', core: settings.serverCore, script: 'src/main.ts', args: ['serve'], env, readyUrl: `${base}/healthz`,
  }, async (server) => {
    await postJson(`${base}/v1/auth/register`, { email: HTTP_EMAIL, password: PASSWORD }, 201);
    const pair = await postJson<TokenPair>(`${base}/v1/auth/login`, { email: HTTP_EMAIL, password: PASSWORD }, 200);
    const auth = { authorization: `Bearer ${pair.accessToken}` };
    const whoami = JSON.parse(await getText(`${base}/v1/auth/whoami`, auth)) as { sub?: string };
    const me = JSON.parse(await getText(`${base}/v1/auth/me`, auth)) as { user?: { email?: string } };
    if (!whoami.sub || me.user?.email !== HTTP_EMAIL) throw new Error(`portcullis: unexpected whoami/me bodies ${JSON.stringify({ whoami, me })}`);
    const probe = JSON.parse(await getText(`${base}/v1/auth/whoami`, { authorization: `Bearer ${probeToken}` })) as { sub?: string };
    if (!probe.sub) throw new Error('portcullis: a minted token was not accepted');

    await getText(`${base}/metrics`); // resets the event-loop histogram: the next scrape covers the idle period only
    await sleep(settings.idleSeconds * 1000);
    const idleText = await getText(`${base}/metrics`);
    outcome.idle.rssBytes = promValue(idleText, 'process_resident_memory_bytes');
    outcome.idle.heapUsedBytes = promValue(idleText, 'nodejs_heap_size_used_bytes');
    outcome.idle.externalBytes = promValue(idleText, 'nodejs_external_memory_bytes');
    outcome.idle.eventLoopP50Seconds = promValue(idleText, 'nodejs_eventloop_lag_p50_seconds');
    outcome.idle.eventLoopP99Seconds = promValue(idleText, 'nodejs_eventloop_lag_p99_seconds');

    const schedule = scheduleOf(settings);
    const watch = watchOf(settings, server.pid);
    // Each step is recorded on its own; a dead server fails the remaining steps at once, with its last output.
    const step = <T>(label: string, fn: () => Promise<T>): Promise<T | undefined> => attempt(label, errors, () => {
      server.assertRunning();
      return fn();
    });
    const add = (r: ScenarioResult | undefined): void => { if (r) outcome.scenarios.push(r); };
    add(await step('portcullis whoami cached', () => withCacheNote(base, () => runScenario(
      'whoami-cached', 'Portcullis `GET /v1/auth/whoami`, same token (cached)',
      { url: `${base}/v1/auth/whoami`, connections: settings.connections, headers: auth }, schedule, watch))));
    outcome.paired = await step('cached whoami vs bare fastify, alternating', () => pairedWithBare(settings, {
      server, spec: { url: `${base}/v1/auth/whoami`, connections: settings.connections, headers: auth },
    }));

    add(await step('portcullis whoami uncached', () => withCacheNote(base, async () => {
      let next = 0;
      const setupRequest = (request: autocannon.Request): autocannon.Request => {
        request.headers = { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]!}` };
        return request;
      };
      const result = await runScenario('whoami-uncached', 'Portcullis `GET /v1/auth/whoami`, new token each request (uncached)',
        { url: `${base}/v1/auth/whoami`, connections: settings.connections, setupRequest }, schedule, watch);
      result.notes.push(`distinct tokens: ${tokens.length} available, ${next} requests built${next > tokens.length ? ' (WRAPPED: some tokens repeated)' : ', none repeated'}`);
      const ageSeconds = (Date.now() - minted.mintedAt) / 1000;
      if (ageSeconds * 1000 > ACCESS_TOKEN_TTL_MS - 30_000) result.notes.push(`tokens were ${Math.round(ageSeconds)} s old at the end: close to expiry`);
      return result;
    })));

    add(await step('portcullis me', () => runScenario(
      'me-cached', 'Portcullis `GET /v1/auth/me`, same token (cached verify + DB read)',
      { url: `${base}/v1/auth/me`, connections: settings.connections, headers: auth }, schedule, watch)));

    outcome.loginBurst = await step('portcullis login burst', () => loginBurst(settings, base, server));
    await step('portcullis memory after bench', async () => {
      outcome.idle.afterBenchRssBytes = promValue(await getText(`${base}/metrics`), 'process_resident_memory_bytes');
    });
  });
  // Whatever was measured before a failure is still reported.
  await attempt('portcullis server', errors, () => run);
  return outcome;
}
