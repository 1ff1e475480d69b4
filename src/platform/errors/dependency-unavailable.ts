/** A backing service the request needs (the database, Redis) cannot answer right now; renders as 503 with Retry-After. */
export class DependencyUnavailableError extends Error {
  /** Which dependency failed, for the log; never shown to the client. */
  readonly dependency: string;

  constructor(dependency: string, options: { cause?: unknown } = {}) {
    super(`${dependency} is unavailable`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DependencyUnavailableError';
    this.dependency = dependency;
  }
}

// Socket-level failures that Node (and pg, ioredis over it) report in `code`.
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED',
]);

// PostgreSQL SQLSTATEs that say "the server or the connection is gone or full", not "your query is wrong":
// class 08 (connection exception), 57P01-57P03 (admin/crash shutdown, cannot connect now), 53300
// (too many connections), 57014 (statement_timeout cancelled the query: the server is too slow now).
const SQLSTATE_PATTERN = /^(08[0-9A-Z]{3}|57P0[1-3]|53300|57014)$/;

// node-postgres and pg-pool report these without a code (pg 8.x messages, matched as prefixes).
const PG_MESSAGES = [
  'Connection terminated',                 // "Connection terminated unexpectedly" / "... due to connection timeout"
  'timeout exceeded when trying to connect', // pg-pool connectionTimeoutMillis
  'Query read timeout',                    // pg query_timeout
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

// ioredis reports a missing connection with plain messages (no offline queue, command timeout),
// and Redis itself a cluster or failover in transition with reply errors.
const REDIS_MESSAGES = [
  'Connection is closed.',
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Command timed out',
  'Redis connection is not ready', // rate-limiter-flexible's rejectIfRedisNotReady
  'Reached the max retries per request limit',
  // Cluster and Sentinel: no node or sentinel reachable, slots moving, a failover under way.
  "Cluster isn't ready and enableOfflineQueue options is false",
  'None of startup nodes is available',
  'Too many Cluster redirections',
  'CLUSTERDOWN',
  'TRYAGAIN',
  'All sentinels are unreachable',
  'READONLY', // a master demoted by a failover, until the connection moves to the new one
];

function classify(error: object): string | undefined {
  if (error instanceof DependencyUnavailableError) return error.dependency;
  const { code, message, name } = error as { code?: unknown; message?: unknown; name?: unknown };
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return 'database';
    if (SQLSTATE_PATTERN.test(code)) return 'database';
  }
  if (typeof message !== 'string') return undefined;
  if (PG_MESSAGES.some((m) => message.startsWith(m))) return 'database';
  if (name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((m) => message.startsWith(m))) return 'redis';
  return undefined;
}

/**
 * Names the dependency when `error` means a backing service is unreachable, overloaded or timing
 * out (so the right answer is 503 and "try again"), or undefined for any other error. Looks
 * through `cause` and AggregateError members (Node's happy-eyeballs connect reports one per address).
 * A socket error without more context is attributed to the database: Redis failures reach the
 * request path only through the adapters, which report them as DependencyUnavailableError.
 */
export function unavailableDependency(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 4) return undefined;
  const found = classify(error);
  if (found) return found;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const dependency = unavailableDependency(inner, depth + 1);
      if (dependency) return dependency;
    }
  }
  return unavailableDependency((error as { cause?: unknown }).cause, depth + 1);
}
