import type { Redis } from 'ioredis';
import { createRedisConnection, waitForRedisReady } from '../kv/redis-connection.js';

/** How BullMQ adapters reach Redis; timeouts in milliseconds. */
export interface BullmqConnectionOptions {
  /** `redis://` or `rediss://`; may carry credentials, so it is never logged. */
  redisUrl: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /** How long opening waits for Redis before giving up. */
  readyTimeoutMs: number;
  /** Connection errors (ioredis retries on its own); without a listener they would go to stderr. */
  onError?: (error: Error) => void;
}

/**
 * BullMQ blocks a worker's fetch (BZPOPMIN) for up to 10 s against Redis, plus its own 1 s
 * watchdog: a worker connection's command timeout must outlast that, or healthy waits would be
 * cut off. Everything else on that connection is bounded by the same, longer, timeout.
 */
const LONGEST_WORKER_BLOCK_MS = 10_000 + 1_000;

/**
 * A connection for producing jobs: no key prefix (BullMQ refuses ioredis prefixes and takes its
 * own `prefix` option), fail fast while Redis is away (no offline queue), every command bounded.
 */
export async function openProducerConnection(options: BullmqConnectionOptions, name: string): Promise<Redis> {
  const client = createRedisConnection({
    url: options.redisUrl, keyPrefix: '', commandTimeoutMs: options.commandTimeoutMs, connectTimeoutMs: options.connectTimeoutMs,
    connectionName: name, ...(options.onError ? { onError: options.onError } : {}),
  });
  return ready(client, options.readyTimeoutMs);
}

/**
 * A connection for a BullMQ Worker (BullMQ duplicates it for its blocking fetch), made from a
 * producer connection so it shares the URL handling and TLS. BullMQ requires
 * `maxRetriesPerRequest: null` there; with the offline queue on, a worker's commands wait for a
 * reconnect instead of failing mid-job, and the command timeout still bounds every one of them.
 */
export async function openWorkerConnection(producer: Redis, options: BullmqConnectionOptions, name: string): Promise<Redis> {
  const client = producer.duplicate({
    maxRetriesPerRequest: null, enableOfflineQueue: true, commandTimeout: options.commandTimeoutMs + LONGEST_WORKER_BLOCK_MS, connectionName: name,
  });
  if (options.onError) client.on('error', options.onError);
  return ready(client, options.readyTimeoutMs);
}

async function ready(client: Redis, timeoutMs: number): Promise<Redis> {
  try {
    await waitForRedisReady(client, timeoutMs);
    return client;
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

/** Quits a connection politely, or drops it when Redis does not answer. */
export async function quitConnection(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
