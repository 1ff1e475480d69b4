import { Redis, type RedisOptions } from 'ioredis';

/** How to reach Redis; timeouts in milliseconds. */
export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` (TLS) URL; may carry credentials, so it is never logged or echoed in errors. */
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
 * Options shared by every topology. The stance is "fail fast, never queue": while Redis is
 * unreachable a call rejects at once, so the limiter can fall back to its in-process insurance and
 * `add` reports the failure, instead of requests piling up behind a queue that drains only when
 * (if ever) Redis returns.
 */
function commonOptions(options: RedisConnectionOptions): RedisOptions {
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
    // Linear backoff, capped: attempt n waits min(100 n, 1000) ms. Never gives up, because a
    // distributed instance is useless without Redis and must recover without a restart.
    retryStrategy: (attempt) => Math.min(100 * attempt, MAX_RECONNECT_DELAY_MS),
  };
}

/**
 * Opens an ioredis client for `url` with bounded timeouts and no offline queue; connects at once.
 * Wait for it with {@link waitForRedisReady}: until then every command rejects.
 */
export function createRedisConnection(options: RedisConnectionOptions): Redis {
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    // The URL may hold a password: describe the problem, never the value.
    throw new Error('the Redis URL is not a valid URL');
  }
  // One branch per topology; Sentinel (`redis+sentinel://`) and Cluster come next and will build
  // their own client (`new Redis({ sentinels })`, `new Cluster(nodes)`) from the same commonOptions.
  switch (parsed.protocol) {
    case 'redis:':
    case 'rediss:': {
      // ioredis parses host, port, credentials and db (`/2`), but switches TLS on only for a URL
      // starting with lower-case "rediss://"; `REDISS://` would silently go out in plain text.
      const tls = parsed.protocol === 'rediss:' ? { tls: {} } : {};
      const client = new Redis(options.url, { ...commonOptions(options), ...tls });
      if (options.onError) client.on('error', options.onError);
      return client;
    }
    default:
      throw new Error(`unsupported Redis URL scheme "${parsed.protocol}": use redis:// or rediss://`);
  }
}

/**
 * A second connection with the same options, for SUBSCRIBE: a RESP2 subscribed connection can
 * issue no other command, and commands must not queue behind pub/sub traffic either way.
 */
export function duplicateForSubscriber(client: Redis, onError?: (error: Error) => void): Redis {
  const subscriber = client.duplicate();
  if (onError) subscriber.on('error', onError);
  return subscriber;
}

/** Resolves once `client` is ready for commands; rejects after `timeoutMs` (the client keeps retrying). */
export function waitForRedisReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') return Promise.reject(new Error('Redis connection is closed'));
  return new Promise((resolve, reject) => {
    const onReady = () => {
      clearTimeout(timer);
      client.off('end', onEnd);
      resolve();
    };
    const onEnd = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
      reject(new Error('Redis connection was closed before it became ready'));
    };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      client.off('end', onEnd);
      reject(new Error(`Redis was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    client.once('ready', onReady);
    client.once('end', onEnd);
  });
}
