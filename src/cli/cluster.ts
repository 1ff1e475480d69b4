import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type pino from 'pino';
import type { Config } from '../platform/config/schema.js';
import type { CliProcess } from './index.js';

/** What `serve --cluster` needs from the CLI: the primary prepares and supervises, each worker serves. */
export interface ClusterServeDeps {
  config: Readonly<Config>;
  proc: CliProcess;
  log: pino.Logger;
  /** Work done once, in the primary, before any worker starts (master key, migrations). */
  prepare: () => Promise<void>;
  /** Runs the ordinary `serve` in this process; `beforeListen` may add hooks to the app. */
  serve: (log: pino.Logger, beforeListen: (app: FastifyInstance) => void) => Promise<void>;
}

/** Response header naming the worker that answered, so operators (and tests) can see the spread. */
export const WORKER_HEADER = 'x-portcullis-worker';

/** First restart delay after a crash; doubles per consecutive crash up to MAX_RESTART_DELAY_MS. */
const BASE_RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that ran at least this long before dying starts its backoff afresh. */
const STABLE_UPTIME_MS = 60_000;
/** Beyond the workers' own drain period, how long the primary waits before killing them. */
const PRIMARY_GRACE_MARGIN_MS = 5_000;

/** Parses the --cluster value: a positive count, or `0`/`auto` for one worker per core; undefined when invalid. */
export function parseWorkerCount(value: string): number | undefined {
  if (value === 'auto' || value === '0') return availableParallelism();
  if (!/^[1-9]\d{0,2}$/.test(value)) return undefined;
  return Number(value);
}

/** Delay before restarting a worker that has crashed `consecutiveCrashes` times in a row (1 = first crash). */
export function restartDelayMs(consecutiveCrashes: number): number {
  return Math.min(BASE_RESTART_DELAY_MS * 2 ** Math.max(0, consecutiveCrashes - 1), MAX_RESTART_DELAY_MS);
}

/**
 * Why clustering would be unsafe with this configuration, or undefined when it is fine: PGlite is
 * one process's database, and without Redis every worker would keep its own limits and revocations.
 */
function refusal(config: Readonly<Config>): string | undefined {
  if (!config.databaseUrl) {
    return 'serve --cluster needs DATABASE_URL: the embedded database (PGlite) can be opened by one process only. Run plain `serve`, or point DATABASE_URL at PostgreSQL.';
  }
  if (!config.redisUrl) {
    return 'serve --cluster needs REDIS_URL: without it every worker would keep its own rate limits and revocations, so a logout or a lock-out on one worker would not bind the others.';
  }
  return undefined;
}

/** Forks `count` workers, restarts crashed ones with backoff, and stops them all on SIGTERM/SIGINT. */
function superviseWorkers(count: number, deps: ClusterServeDeps): void {
  const { proc, config } = deps;
  const log = deps.log.child({ role: 'primary' });
  const live = new Set<Worker>();
  const pendingRestarts = new Set<NodeJS.Timeout>();
  let stopping = false;
  let exitCode = 0;
  let anyListening = false;

  const finishIfDone = () => {
    if (stopping && live.size === 0 && pendingRestarts.size === 0) {
      log.info({ exitCode }, 'all workers stopped');
      proc.exit(exitCode);
    }
  };

  const stop = (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    for (const timer of pendingRestarts) clearTimeout(timer);
    pendingRestarts.clear();
    log.info({ reason, workers: live.size }, 'stopping workers: each drains its in-flight requests');
    // Each worker runs serve's own SIGTERM handler: stop accepting, drain, close the database.
    for (const worker of live) worker.process.kill('SIGTERM');
    const force = setTimeout(() => {
      log.error({ workers: live.size }, 'workers did not stop within the grace period; killing them');
      for (const worker of live) worker.process.kill('SIGKILL');
      proc.exit(1);
    }, config.http.shutdownGraceMs + PRIMARY_GRACE_MARGIN_MS);
    force.unref();
    finishIfDone();
  };

  const fork = (consecutiveCrashes: number) => {
    const worker = cluster.fork();
    const startedAtMs = Date.now();
    let listening = false;
    live.add(worker);
    worker.on('listening', () => {
      listening = true;
      anyListening = true;
      log.info({ workerId: worker.id, workerPid: worker.process.pid }, 'worker listening');
    });
    worker.on('exit', (code: number | null, signal: string | null) => {
      live.delete(worker);
      if (stopping) {
        if (code !== 0) exitCode = 1;
        log.info({ workerId: worker.id, code, signal }, 'worker stopped');
        finishIfDone();
        return;
      }
      // A worker that dies before any worker has ever listened (bad port, unreachable database)
      // would die again on restart: stop instead of looping.
      if (!listening && !anyListening) {
        log.error({ workerId: worker.id, code, signal }, 'worker failed to start; stopping the cluster');
        stop('worker failed to start', 1);
        return;
      }
      const crashes = Date.now() - startedAtMs >= STABLE_UPTIME_MS ? 1 : consecutiveCrashes + 1;
      const delayMs = restartDelayMs(crashes);
      log.error({ workerId: worker.id, workerPid: worker.process.pid, code, signal, restartInMs: delayMs }, 'worker exited unexpectedly; restarting');
      const timer = setTimeout(() => {
        pendingRestarts.delete(timer);
        fork(crashes);
      }, delayMs);
      pendingRestarts.add(timer);
    });
  };

  proc.onSignal('SIGTERM', () => stop('SIGTERM', 0));
  proc.onSignal('SIGINT', () => stop('SIGINT', 0));
  log.info({ workers: count, port: config.port }, 'starting cluster');
  for (let i = 0; i < count; i++) fork(0);
}

/**
 * `portcullis serve --cluster N`. In the primary: refuse unsafe configurations (exit 78), prepare
 * once, fork N workers; resolves undefined while the cluster runs. In a worker: the ordinary serve,
 * logging and answering with its worker id.
 */
export async function serveCluster(value: string, deps: ClusterServeDeps): Promise<number | undefined> {
  if (cluster.isWorker && cluster.worker) {
    const workerId = cluster.worker.id;
    await deps.serve(deps.log.child({ workerId }), (app) => {
      app.addHook('onRequest', (_request, reply, done) => {
        reply.header(WORKER_HEADER, String(workerId));
        done();
      });
    });
    return undefined;
  }
  const count = parseWorkerCount(value);
  if (count === undefined) {
    deps.proc.stderr(`--cluster takes a worker count (1-999), or 0/auto for one per core; got "${value}"`);
    return 64; // EX_USAGE
  }
  const why = refusal(deps.config);
  if (why) {
    deps.proc.stderr(why);
    return 78; // EX_CONFIG
  }
  // Migrations and the master key once, here: N workers starting together then only find them done.
  await deps.prepare();
  superviseWorkers(count, deps);
  return undefined;
}
