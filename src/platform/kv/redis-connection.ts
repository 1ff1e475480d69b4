import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { parseRedisUrl, type RedisHostPort } from './redis-url.js';

/**
 * A command connection of any topology: a single node or a Sentinel-managed master (`Redis`), or
 * a Redis Cluster (`Cluster`). Both speak the same commands, emit `ready`/`close`/`end` and report
 * `status === 'ready'` when usable; what differs (duplicating, subscribing, SCAN) is handled here.
 */
export type RedisClient = Redis | Cluster;

/** How to reach Redis; timeouts in milliseconds. */
export interface RedisConnectionOptions {
  /**
   * `redis://`/`rediss://` (one node), `redis+sentinel://`/`rediss+sentinel://` or
   * `redis+cluster://`/`rediss+cluster://` (see `parseRedisUrl`); may carry credentials, so it is
   * never logged or echoed in errors.
   */
  url: string;
  /** Prepended by ioredis to every key (not to pub/sub channels, and not to SCAN patterns). */
  keyPrefix: string;
  /** A command without a reply after this long rejects; it bounds every call, including those in flight when the connection drops. */
  commandTimeoutMs: number;
  /** A TCP connect + handshake that takes longer than this is abandoned and retried. */
  connectTimeoutMs: number;
  /** Shown in `CLIENT LIST`, so operators can tell our connections apart. */
  connectionName?: string;
  /**
   * Receives connection errors (refused, reset, timeout). ioredis retries on its own; without a
   * listener it prints every attempt to stderr, so the registry passes its logger here.
   */
  onError?: (error: Error) => void;
}

/**
 * Longest pause between reconnect attempts. A restarted Redis must be back in use within 5 s
 * (reconnect <= 1 s, then the revocation mirror re-syncs); one attempt a second per connection is
 * negligible load on a Redis that is down.
 */
const MAX_RECONNECT_DELAY_MS = 1_000;

/**
 * Linear backoff, capped: attempt n waits min(100 n, 1000) ms. Never gives up, because a
 * distributed instance is useless without Redis and must recover without a restart. Used for the
 * node connection, and for the sentinels and cluster seed nodes when none of them answers.
 */
const reconnectDelay = (attempt: number) => Math.min(100 * attempt, MAX_RECONNECT_DELAY_MS);

/** Seed nodes of each Cluster we opened (ioredis keeps its own copy private), for the subscriber. */
const clusterSeeds = new WeakMap<Cluster, readonly RedisHostPort[]>();

/**
 * Options shared by every topology. The stance is "fail fast, never queue": while Redis is
 * unreachable a call rejects at once, so the limiter can fall back to its in-process insurance and
 * `add` reports the failure, instead of requests piling up behind a queue that drains only when
 * (if ever) Redis returns.
 */
function commonOptions(options: RedisConnectionOptions) {
  return {
    keyPrefix: options.keyPrefix,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    ...(options.connectionName === undefined ? {} : { connectionName: options.connectionName }),
    lazyConnect: false,
    // Reject instead of queueing while disconnected (ioredis' default queue waits for ever).
    enableOfflineQueue: false,
    // A command in flight when the connection drops fails on that drop rather than being replayed
    // later: its caller has already moved on (timed out or used the fallback), and a replayed
    // `consume` would count a point nobody asked for.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelay,
  } satisfies RedisOptions;
}

/**
 * Opens an ioredis client for `url` with bounded timeouts and no offline queue; connects at once.
 * Wait for it with {@link waitForRedisReady}: until then every command rejects. Throws a
 * `RedisUrlError` (which never repeats the URL) when the URL cannot be used.
 */
export function createRedisConnection(options: RedisConnectionOptions): RedisClient {
  const target = parseRedisUrl(options.url);
  let client: RedisClient;
  switch (target.topology) {
    case 'single': {
      // ioredis parses host, port, credentials and db (`/2`), but switches TLS on only for a URL
      // starting with lower-case "rediss://"; `REDISS://` would silently go out in plain text.
      client = new Redis(target.url, { ...commonOptions(options), ...(target.tls ? { tls: {} } : {}) });
      break;
    }
    case 'sentinel': {
      client = new Redis({
        ...commonOptions(options),
        sentinels: target.sentinels,
        name: target.masterName,
        db: target.db,
        ...(target.username === undefined ? {} : { username: target.username }),
        ...(target.password === undefined ? {} : { password: target.password }),
        ...(target.sentinelUsername === undefined ? {} : { sentinelUsername: target.sentinelUsername }),
        ...(target.sentinelPassword === undefined ? {} : { sentinelPassword: target.sentinelPassword }),
        // Every reconnect asks the sentinels for the current master (and ioredis checks its ROLE);
        // these bound that conversation: each sentinel query, and the pause when none answers.
        sentinelCommandTimeout: options.commandTimeoutMs,
        sentinelRetryStrategy: reconnectDelay,
        // A failover reaches us as a dropped connection: the old master is dead, or Sentinel
        // disconnects the clients of a master it demotes. ioredis' failoverDetector would watch
        // +switch-master too, but its sentinel subscriptions survive quit() (ioredis #1362) and keep
        // a stopping process alive, so it stays off.
        failoverDetector: false,
        // Should a demoted master still answer us, its READONLY errors trigger the reconnect, which
        // asks the sentinels again. The failed command still fails (no replay, as above).
        reconnectOnError: (error) => error.message.startsWith('READONLY'),
        // ioredis encrypts the master connection only with enableTLSForSentinelMode, and the
        // sentinel connections only with sentinelTLS: rediss+sentinel means both.
        ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      });
      break;
    }
    case 'cluster': {
      // The Cluster takes the prefix, the offline queue and reconnection itself; each node
      // connection gets the rest (timeouts, no replay, credentials, TLS).
      const { keyPrefix, enableOfflineQueue, retryStrategy: _nodeRetry, ...nodeOptions } = commonOptions(options);
      const clusterOptions: ClusterOptions = {
        keyPrefix,
        enableOfflineQueue,
        lazyConnect: false,
        // When no seed node answers: try them all again, as often as a single node is retried.
        clusterRetryStrategy: reconnectDelay,
        // ioredis' default drops a node whose connection closed and waits for a MOVED to bring it
        // back; reconnecting brings a restarted node back into use within the same second.
        clusterNodeRetryStrategy: reconnectDelay,
        slotsRefreshTimeout: options.commandTimeoutMs,
        redisOptions: {
          ...nodeOptions,
          ...(target.username === undefined ? {} : { username: target.username }),
          ...(target.password === undefined ? {} : { password: target.password }),
          ...(target.tls ? { tls: {} } : {}),
        },
      };
      const cluster = new Cluster(target.nodes, clusterOptions);
      clusterSeeds.set(cluster, target.nodes);
      client = cluster;
      break;
    }
  }
  if (options.onError) reportErrors(client, options.onError);
  return client;
}

/** Sends `client`'s connection errors to `onError`, a Cluster's per-node ones included. */
export function reportErrors(client: RedisClient, onError: (error: Error) => void): void {
  client.on('error', onError);
  // A Cluster emits 'error' only when it fails as a whole; a node's failures come as 'node error'.
  if (isRedisCluster(client)) client.on('node error', onError);
}

/** True when `client` is a Redis Cluster connection (commands are routed by slot; SCAN and SUBSCRIBE are per node). */
export function isRedisCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/**
 * A second connection with the same options, for SUBSCRIBE: a RESP2 subscribed connection can
 * issue no other command, and commands must not queue behind pub/sub traffic either way.
 *
 * Single node and Sentinel: a duplicate (a Sentinel one follows the master through failovers).
 * Cluster: a plain connection to one node, since a PUBLISH on any node of a cluster reaches the
 * subscribers of every node. ioredis' own cluster subscriber would do, but when its node goes it
 * re-subscribes elsewhere without any event, and messages published in between would be lost
 * silently; this connection emits `close` and `ready` like any other, so the revocation mirror
 * knows it must reload. Each reconnect attempt moves to the next node the cluster knows of.
 */
export function duplicateForSubscriber(client: RedisClient, onError?: (error: Error) => void): Redis {
  const subscriber = isRedisCluster(client) ? clusterSubscriber(client) : client.duplicate();
  if (onError) subscriber.on('error', onError);
  return subscriber;
}

function clusterSubscriber(cluster: Cluster): Redis {
  const seeds = clusterSeeds.get(cluster) ?? [];
  const candidates = (): RedisHostPort[] => {
    const known = cluster.nodes('all').map((node) => ({ host: node.options.host ?? '', port: node.options.port ?? 6379 }));
    return known.length > 0 ? known : [...seeds];
  };
  const first = candidates();
  // A random node, so the subscribers of many instances spread over the cluster.
  const start = first[Math.floor(Math.random() * first.length)];
  if (!start) throw new Error('the Redis Cluster connection has no nodes to subscribe on');
  const subscriber: Redis = new Redis({
    ...cluster.options.redisOptions,
    host: start.host,
    port: start.port,
    enableOfflineQueue: false,
    retryStrategy: (attempt) => {
      // ioredis reads host and port from its options object on every connect: point it at the
      // node after the current one, so a node that is gone for good is left behind.
      const nodes = candidates();
      const current = nodes.findIndex((node) => node.host === subscriber.options.host && node.port === subscriber.options.port);
      const next = nodes[(current + 1) % nodes.length];
      if (next) Object.assign(subscriber.options, { host: next.host, port: next.port });
      return reconnectDelay(attempt);
    },
  });
  return subscriber;
}

/**
 * Resolves once `client` is ready for commands; rejects after `timeoutMs` (the client keeps
 * retrying), naming the last connection error so an operator sees why (a refused port, an
 * untrusted certificate, wrong credentials) without digging through the retries in the log.
 */
export function waitForRedisReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') return Promise.reject(new Error('Redis connection is closed'));
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (error: Error) => { lastError = error; };
    const stopListening = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
      client.off('error', onError);
      client.off('node error', onError);
    };
    const onReady = () => {
      stopListening();
      resolve();
    };
    const onEnd = () => {
      stopListening();
      reject(new Error('Redis connection was closed before it became ready'));
    };
    const timer = setTimeout(() => {
      stopListening();
      // ioredis' connection errors name the address and the reason, never the URL's credentials.
      reject(new Error(`Redis was not ready within ${timeoutMs} ms${lastError ? ` (last error: ${lastError.message})` : ''}`, { cause: lastError }));
    }, timeoutMs);
    client.once('ready', onReady);
    client.once('end', onEnd);
    client.on('error', onError);
    // A Cluster's failing seed nodes report as 'node error' (as in reportErrors).
    if (isRedisCluster(client)) client.on('node error', onError);
  });
}
