import { createRedisConnection, isRedisCluster, type RedisClient, reportErrors, waitForRedisReady } from '../kv/redis-connection.js';
import { parseRedisUrl } from '../kv/redis-url.js';

/** How BullMQ adapters reach Redis; timeouts in milliseconds. */
export interface BullmqConnectionOptions {
  /** Any URL `createRedisConnection` takes (one node, Sentinel or Cluster); may carry credentials, so it is never logged. */
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
 * The BullMQ key prefix of a deployment whose other keys start with `deploymentPrefix`
 * (`portcullis:` gives `portcullis:bull`). On a Redis Cluster it is a hash tag,
 * `{portcullis:bull}`: BullMQ's scripts touch several keys of a queue at once, which a cluster
 * allows only within one slot, and a tag puts every key of every queue of the deployment there.
 * Single node and Sentinel keep the untagged name, so an upgrade finds its queued jobs.
 */
export function bullmqPrefix(deploymentPrefix: string, redisUrl: string): string {
  const name = `${deploymentPrefix.replace(/:$/, '')}:bull`;
  return parseRedisUrl(redisUrl).topology === 'cluster' ? `{${name}}` : name;
}

/**
 * Refuses a prefix that would spread a queue's keys over several cluster slots: BullMQ would
 * then fail at its first multi-key script with CROSSSLOT, long after start-up.
 */
export function assertPrefixFitsConnection(connection: RedisClient, prefix: string): void {
  // Redis hashes only the part between the first "{" and the next "}", when that part is not empty.
  if (isRedisCluster(connection) && !/^[^{]*\{[^}]+\}/.test(prefix)) {
    throw new Error(`the BullMQ prefix "${prefix}" must start with a hash tag such as "{${prefix}}" on a Redis Cluster`);
  }
}

/**
 * A connection for producing jobs: no key prefix (BullMQ refuses ioredis prefixes and takes its
 * own `prefix` option), fail fast while Redis is away (no offline queue), every command bounded.
 */
export async function openProducerConnection(options: BullmqConnectionOptions, name: string): Promise<RedisClient> {
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
export async function openWorkerConnection(producer: RedisClient, options: BullmqConnectionOptions, name: string): Promise<RedisClient> {
  const nodeOptions = { maxRetriesPerRequest: null, commandTimeout: options.commandTimeoutMs + LONGEST_WORKER_BLOCK_MS, connectionName: name };
  // A Cluster keeps per-node settings in redisOptions (merged by duplicate) and the queue on itself.
  const client = isRedisCluster(producer)
    ? producer.duplicate([], { enableOfflineQueue: true, redisOptions: nodeOptions })
    : producer.duplicate({ ...nodeOptions, enableOfflineQueue: true });
  if (options.onError) reportErrors(client, options.onError);
  return ready(client, options.readyTimeoutMs);
}

async function ready(client: RedisClient, timeoutMs: number): Promise<RedisClient> {
  try {
    await waitForRedisReady(client, timeoutMs);
    return client;
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

/** Quits a connection politely, or drops it when Redis does not answer. */
export async function quitConnection(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
