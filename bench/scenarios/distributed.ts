// Distributed mode: the authenticated pipeline on PostgreSQL with the Redis limiter vs the
// in-process one, Redis commands per request counted on a private redis-server, and
// `serve --cluster 2` vs one process.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { attempt } from '../lib/attempt.js';
import { getText, postJson } from '../lib/http.js';
import { runScenario, type Schedule } from '../lib/load.js';
import { cleanEnv, freePort, type Managed, startProcess, stopProcess, withServer } from '../lib/processes.js';
import { sleep } from '../lib/stats.js';
import type { ScenarioResult, Settings, TargetCheck } from '../lib/types.js';
import { scheduleOf, watchOf } from './peers.js';

const PASSWORD = 'violet kettle drums at midnight';

/**
 * Redis traffic per request, seen through MONITOR on a private redis-server. A command a client
 * sends is one round trip (ioredis does not auto-pipeline here); the commands a Lua script runs
 * inside Redis (MONITOR's source "lua") cost no round trip and are listed apart, since INFO
 * commandstats counts both alike and would report one EVALSHA of a three-command script as four.
 */
export interface RoundTrips {
  path: string;
  requests: number;
  /** Commands clients sent (round trips, at most). */
  sent: number;
  perRequest: number;
  byCommand: Record<string, number>;
  /** Commands run inside Lua scripts on the Redis side, by name. */
  inScripts: Record<string, number>;
}

/** What the distributed part of the bench produced. */
export interface DistributedOutcome {
  scenarios: ScenarioResult[];
  roundTrips: RoundTrips[];
  /** Why the suite did not run, when it did not. */
  skipped?: string;
}

/** Sends `n` sequential requests and returns the Redis commands they caused, split into sent and run-in-script. */
async function countRoundTrips(redis: Redis, path: string, url: string, headers: Record<string, string>, n: number): Promise<RoundTrips> {
  await sleep(500); // let background traffic from the previous load drain
  const monitor = await redis.monitor();
  const byCommand: Record<string, number> = {};
  const inScripts: Record<string, number> = {};
  // MONITOR lines trail the commands they report: an ECHO of a unique marker closes the window.
  const marker = `bench-end-${randomBytes(4).toString('hex')}`;
  let markerSeen: () => void = () => undefined;
  const windowClosed = new Promise<void>((resolve) => { markerSeen = resolve; });
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const name = String(args[0]).toLowerCase();
    if (name === 'echo' && args[1] === marker) return markerSeen();
    const tally = source === 'lua' ? inScripts : byCommand;
    tally[name] = (tally[name] ?? 0) + 1;
  });
  try {
    for (let i = 0; i < n; i++) await getText(url, headers);
    await redis.echo(marker);
    await windowClosed;
  } finally {
    monitor.disconnect();
  }
  const sent = Object.values(byCommand).reduce((a, b) => a + b, 0);
  return { path, requests: n, sent, perRequest: sent / n, byCommand, inScripts };
}

async function startPrivateRedis(): Promise<{ url: string; process: Managed; client: Redis }> {
  const port = await freePort();
  const managed = startProcess('redis-server', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], process.env);
  for (let i = 0; i < 50; i++) {
    // A fresh client per attempt: one whose first connect failed keeps reconnecting on its own.
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return { url: `redis://127.0.0.1:${port}`, process: managed, client };
    } catch {
      client.disconnect();
      managed.assertRunning();
      await sleep(100);
    }
  }
  throw new Error('private redis-server did not start');
}

/** One Portcullis configuration under load: register + login, then cached whoami and /me. */
async function pipelineScenarios(
  label: string, id: string, settings: Settings, server: { core: number | string; args: string[]; env: Record<string, string> },
  schedule: Schedule, onReady?: (base: string, auth: Record<string, string>) => Promise<void>,
): Promise<ScenarioResult[]> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = cleanEnv({
    ...server.env, PORTCULLIS_PORT: String(port), PORTCULLIS_LOG_LEVEL: 'warn',
    PORTCULLIS_RATE_LIMIT__AUTHENTICATED__POINTS: '1000000000',
  });
  return withServer({ name: `portcullis-${id}`, core: server.core, script: 'src/main.ts', args: server.args, env, readyUrl: `${base}/healthz` }, async (managed) => {
    const email = `bench-${id}-${randomBytes(4).toString('hex')}@example.com`;
    await postJson(`${base}/v1/auth/register`, { email, password: PASSWORD }, 201);
    const pair = await postJson<{ accessToken: string }>(`${base}/v1/auth/login`, { email, password: PASSWORD }, 200);
    const auth = { authorization: `Bearer ${pair.accessToken}` };
    await onReady?.(base, auth);
    const watch = watchOf(settings, managed.pid);
    const whoami = await runScenario(`whoami-${id}`, `whoami cached, ${label}`, { url: `${base}/v1/auth/whoami`, connections: settings.connections, headers: auth }, schedule, watch);
    const me = await runScenario(`me-${id}`, `/me (cached verify + PostgreSQL read), ${label}`, { url: `${base}/v1/auth/me`, connections: settings.connections, headers: auth }, schedule, watch);
    return [whoami, me];
  });
}

/** Runs the distributed suite against the PostgreSQL at `databaseUrl` and a private redis-server. */
export async function benchDistributed(settings: Settings, databaseUrl: string | undefined, errors: string[]): Promise<DistributedOutcome> {
  const outcome: DistributedOutcome = { scenarios: [], roundTrips: [] };
  if (!databaseUrl) {
    outcome.skipped = 'DATABASE_URL is not set: the distributed suite needs a PostgreSQL server';
    return outcome;
  }
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const redis = await startPrivateRedis();
  try {
    const schedule = scheduleOf(settings);
    // One master key for the schema: the signing keys the first server seals must open in the next ones.
    const pgOnly = { DATABASE_URL: url.toString(), PORTCULLIS_DATA_DIR: `/tmp/${schema}`, PORTCULLIS_MASTER_KEY: randomBytes(32).toString('base64') };
    const withRedis = { ...pgOnly, REDIS_URL: redis.url, PORTCULLIS_REDIS__KEY_PREFIX: `${schema}:` };
    const add = (r: ScenarioResult[] | undefined): void => { if (r) outcome.scenarios.push(...r); };
    add(await attempt('distributed in-process limiter', errors, () => pipelineScenarios(
      'PostgreSQL, in-process limiter (no REDIS_URL)', 'pg-memory', settings, { core: settings.serverCore, args: ['serve'], env: pgOnly }, schedule)));
    add(await attempt('distributed redis limiter', errors, () => pipelineScenarios(
      'PostgreSQL + Redis limiter and revocations', 'pg-redis', settings, { core: settings.serverCore, args: ['serve'], env: withRedis }, schedule,
      async (base, auth) => {
        outcome.roundTrips.push(await countRoundTrips(redis.client, 'GET /v1/auth/whoami', `${base}/v1/auth/whoami`, auth, 2000));
        outcome.roundTrips.push(await countRoundTrips(redis.client, 'GET /v1/auth/me', `${base}/v1/auth/me`, auth, 1000));
      })));
    // Two workers on both cores, sharing them with the load generator: the question is what a 2-core host gains.
    add(await attempt('distributed cluster 2', errors, () => pipelineScenarios(
      '`serve --cluster 2` (both cores, shared with the load generator), PostgreSQL + Redis', 'cluster2', settings,
      { core: `${settings.serverCore},${settings.loadgenCore}`, args: ['serve', '--cluster', '2'], env: withRedis }, { ...schedule, maxRetries: 0 })));
  } finally {
    redis.client.disconnect();
    await stopProcess(redis.process);
    await admin.query(`drop schema ${schema} cascade`).catch(() => undefined);
    await admin.end();
  }
  return outcome;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const tally = (counts: Record<string, number>): string => Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';

/** The suite's own Markdown sections. */
export function distributedSections(outcome: DistributedOutcome): string[] {
  if (outcome.skipped) return ['## Skipped', '', `- ${outcome.skipped}`, ''];
  const rate = (id: string): number | undefined => outcome.scenarios.find((s) => s.id === id)?.medianReqPerSec;
  const ratio = (a: string, b: string): string => {
    const x = rate(a);
    const y = rate(b);
    return x !== undefined && y ? `${(x / y).toFixed(2)}x (${int(x)} / ${int(y)} req/s)` : 'n/a';
  };
  return [
    '## Method', '',
    '- One fresh PostgreSQL schema per run on the machine\'s PostgreSQL; a private `redis-server` on a free port, watched with MONITOR, so every command seen is this server\'s.',
    '- Single-process servers are pinned to the server core; `--cluster 2` runs on both cores, which it shares with the load generator (this machine has two): its figure is what a 2-core host gains, not a per-core rate. Its server CPU column counts the primary process only.',
    '',
    '## Ratios', '',
    '| | |', '|---|--:|',
    `| whoami cached: Redis limiter / in-process limiter | ${ratio('whoami-pg-redis', 'whoami-pg-memory')} |`,
    `| /me: Redis limiter / in-process limiter | ${ratio('me-pg-redis', 'me-pg-memory')} |`,
    `| whoami cached: \`--cluster 2\` / one process (Redis) | ${ratio('whoami-cluster2', 'whoami-pg-redis')} |`,
    `| /me: \`--cluster 2\` / one process (Redis) | ${ratio('me-cluster2', 'me-pg-redis')} |`,
    '',
    '## Redis round trips per authenticated request (counted)', '',
    '| Path | Requests | Commands sent (round trips) | Per request | Sent, by command | Run inside scripts (no round trip) |', '|---|--:|--:|--:|---|---|',
    ...outcome.roundTrips.map((r) => `| ${r.path} | ${r.requests} | ${r.sent} | **${r.perRequest.toFixed(2)}** | ${tally(r.byCommand)} | ${tally(r.inScripts)} |`),
    '',
    'Sequential requests after the load, so the count is per request, not per unit of time. MONITOR reports the commands a Lua script runs with the source "lua": they execute inside Redis during the one EVALSHA round trip (rate-limiter-flexible\'s consume is SET NX + INCRBY + PTTL in one script). The target: at most one round trip per authenticated request (the limiter) and none for revocation (answered from the in-memory mirror).',
    '',
  ];
}

/** The target: at most one Redis round trip per authenticated request. */
export function distributedTargets(outcome: DistributedOutcome): TargetCheck[] {
  const whoami = outcome.roundTrips.find((r) => r.path.includes('whoami'));
  return [whoami === undefined
    ? { name: 'at most 1 Redis round trip per authenticated request', measured: outcome.skipped ? 'n/a (skipped)' : 'n/a (missing data)', pass: undefined, suspect: false }
    : { name: 'at most 1 Redis round trip per authenticated request (whoami)', measured: whoami.perRequest.toFixed(2), pass: whoami.perRequest <= 1, suspect: false }];
}
