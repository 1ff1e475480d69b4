import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { createFailureCounts, createKyselyFailureStatsStore, createPruneFailureStats, createRecordFailureStats, FAILURE_EVENT_KINDS } from './detection/index.js';
import type { Clock } from './platform/clock.js';
import { systemClock } from './platform/clock.js';
import type { Config } from './platform/config/schema.js';
import { migrateToLatest, openDatabase } from './platform/db/database.js';
import type { DB } from './platform/db/schema.js';
import { createTransact } from './platform/db/transact.js';
import { exitGracefullyOnSignals } from './platform/graceful-shutdown.js';
import { startOpsServer, type OpsServer } from './platform/observability/ops-server.js';
import { createMetrics, type Metrics } from './platform/observability/metrics.js';
import { type BullmqConnectionOptions, bullmqPrefix } from './platform/queue/bullmq-connections.js';
import { createBullmqJobConsumer } from './platform/queue/bullmq-job-consumer.js';
import { createBullmqJobQueue } from './platform/queue/bullmq-job-queue.js';
import { createJobDispatcher } from './platform/queue/dispatch-jobs.js';
import type { JobObserver } from './platform/queue/job-observer.js';
import type { JobConsumer, JobHandler, JobQueue } from './platform/queue/job-queue.js';
import { createLoggingJobObserver } from './platform/queue/logging-job-observer.js';
import { createMemoryJobQueue } from './platform/queue/memory-job-queue.js';

/** What the job handlers need. */
export interface JobHandlerDeps {
  db: Kysely<DB>;
  clock: Clock;
  config: Readonly<Config>;
  logger: Logger;
}

function failureStatsOptions(config: Readonly<Config>) {
  return { bucketMs: config.detection.bucketSeconds * 1000, retentionMs: config.detection.retentionSeconds * 1000 };
}

/** The handler table (job name -> handler), as one dispatching handler; jobs of other names are acknowledged. */
export function createJobHandler(deps: JobHandlerDeps): JobHandler {
  const transact = createTransact(deps.db, (tx) => ({ failureStats: createKyselyFailureStatsStore(tx) }));
  const recordFailureStats = createRecordFailureStats({ clock: deps.clock, transact, options: failureStatsOptions(deps.config) });
  const table: Record<string, JobHandler> = {};
  for (const name of Object.keys(FAILURE_EVENT_KINDS)) table[name] = async (job) => { await recordFailureStats(job); };
  return createJobDispatcher(table, (job) => deps.logger.debug({ job: job.name, jobId: job.id }, 'no handler for job; acknowledged'));
}

/** The read detection rules use (`failureCounts({dimension, key, sinceMs})`). */
export function createFailureCountsReader(db: Kysely<DB>, config: Readonly<Config>) {
  return createFailureCounts({ store: createKyselyFailureStatsStore(db), bucketMs: failureStatsOptions(config).bucketMs });
}

/** Prunes old failure statistics now and every `detection.pruneIntervalSeconds`; returns the stop function. */
export function startJobMaintenance(deps: JobHandlerDeps): () => void {
  const prune = createPruneFailureStats({
    clock: deps.clock, store: createKyselyFailureStatsStore(deps.db), retentionMs: failureStatsOptions(deps.config).retentionMs,
  });
  const run = () => {
    prune().catch((error: unknown) => deps.logger.error({ err: error }, 'pruning failure statistics failed; the next pass retries'));
  };
  run();
  const timer = setInterval(run, deps.config.detection.pruneIntervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/** BullMQ settings from config: the deployment's Redis key prefix scopes BullMQ's keys too (as a hash tag on a Cluster). */
export function bullmqSettings(config: Readonly<Config>, logger: Logger) {
  const connection: BullmqConnectionOptions = {
    redisUrl: config.redisUrl!, commandTimeoutMs: config.redis.commandTimeoutMs, connectTimeoutMs: config.redis.connectTimeoutMs,
    readyTimeoutMs: config.redis.startupTimeoutMs, onError: (error) => logger.warn({ err: error }, 'job queue redis error'),
  };
  return { ...connection, prefix: bullmqPrefix(config.redis.keyPrefix, config.redisUrl!), queueName: config.queue.name };
}

/** The job queues of a `serve` process: what the registry relays into, and (when it runs handlers) the consumer. */
export interface ServeJobQueues {
  jobQueue: JobQueue;
  /** Starts consuming when `queue.consumeInServe`, and pruning wherever handlers run here. */
  start(): Promise<void>;
  /** Stops consuming (waiting for running handlers), then closes the producer. */
  close(): Promise<void>;
}

/**
 * Embedded mode (no Redis): the in-process queue, whose handlers run here from the start, since
 * its add() resolves only once jobs are handled and one-shot commands (`audit verify` relays
 * before it verifies) never call start(). Distributed mode: the BullMQ producer only, since
 * `portcullis worker` processes consume, unless `queue.consumeInServe`.
 */
export async function openServeJobQueues(deps: JobHandlerDeps & { observer: JobObserver }): Promise<ServeJobQueues> {
  const { config } = deps;
  let consumer: JobConsumer | undefined;
  let jobQueue: JobQueue;
  if (!config.redisUrl) {
    const memory = createMemoryJobQueue({ ...config.queue, clock: deps.clock, observer: deps.observer });
    await memory.start(createJobHandler(deps));
    jobQueue = memory;
  } else {
    const settings = bullmqSettings(config, deps.logger);
    jobQueue = await createBullmqJobQueue({ ...settings, ...config.queue });
    if (config.queue.consumeInServe) {
      try {
        consumer = await createBullmqJobConsumer({ ...settings, concurrency: config.queue.concurrency, keepDeadLetters: config.queue.keepDeadLetters, clock: deps.clock, observer: deps.observer });
      } catch (error) {
        await jobQueue.close();
        throw error;
      }
    }
  }
  let stopMaintenance: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  return {
    jobQueue,
    async start() {
      await consumer?.start(createJobHandler(deps));
      if (consumer || !config.redisUrl) stopMaintenance = startJobMaintenance(deps);
    },
    // Once: the registry may close the queue early (a relay stuck on retries) and again at the end.
    close() {
      closing ??= (async () => {
        stopMaintenance?.();
        await consumer?.close();
        await jobQueue.close();
      })();
      return closing;
    },
  };
}

/** The process surface `portcullis worker` needs (a subset of the CLI's). */
export interface WorkerProcess {
  stderr: (line: string) => void;
  onSignal: (signal: 'SIGTERM' | 'SIGINT', handler: () => void) => void;
  exit: (code: number) => void;
}

/**
 * `portcullis worker`: consumes the BullMQ queue with the job handlers until SIGTERM or SIGINT,
 * then stops fetching, lets running jobs finish and exits 0. Distributed mode only: it refuses to
 * start (exit 78) without REDIS_URL and DATABASE_URL, since embedded `serve` runs the handlers
 * itself. Resolves with an exit code when it refuses, undefined once running.
 */
export async function runWorker(config: Readonly<Config>, proc: WorkerProcess, logger: Logger, metrics: Metrics = createMetrics()): Promise<number | undefined> {
  if (!config.redisUrl || !config.databaseUrl) {
    proc.stderr('portcullis worker needs REDIS_URL and DATABASE_URL (distributed mode); in embedded mode `serve` runs the job handlers itself');
    return 78; // EX_CONFIG
  }
  const clock = systemClock;
  const database = await openDatabase({
    databaseUrl: config.databaseUrl, poolMax: Math.max(2, config.queue.concurrency), statementTimeoutMs: config.database.statementTimeoutMs,
    connectTimeoutMs: config.database.connectTimeoutMs,
  });
  let consumer: JobConsumer;
  try {
    // Under PostgreSQL's migration lock, so a worker starting before (or with) `serve` is safe.
    await migrateToLatest(database.db);
    consumer = await createBullmqJobConsumer({
      ...bullmqSettings(config, logger), concurrency: config.queue.concurrency, keepDeadLetters: config.queue.keepDeadLetters, clock, observer: createLoggingJobObserver(metrics, logger),
    });
  } catch (error) {
    await database.close();
    throw error;
  }
  let ops: OpsServer;
  try {
    ops = await startOpsServer({ host: config.worker.metricsHost, port: config.worker.metricsPort, registry: metrics.registry });
  } catch (error) {
    await consumer.close();
    await database.close();
    throw error;
  }
  const deps = { db: database.db, clock, config, logger };
  await consumer.start(createJobHandler(deps));
  const stopMaintenance = startJobMaintenance(deps);
  logger.info({ queue: config.queue.name, concurrency: config.queue.concurrency, metrics: `${ops.url}/metrics` }, 'worker started');

  const options = { graceMs: config.http.shutdownGraceMs, draining: 'worker shutting down: finishing running jobs', done: 'worker stopped' };
  exitGracefullyOnSignals(proc, logger, options, async () => {
    stopMaintenance();
    // The consumer first: running jobs still need the database.
    await consumer.close();
    await database.close();
    await ops.close();
  });
  return undefined;
}
