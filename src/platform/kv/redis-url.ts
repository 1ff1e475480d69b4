/** One node of a Sentinel or Cluster URL's host list. */
export interface RedisHostPort {
  host: string;
  port: number;
}

/** Credentials from the URL's user-info part, percent-decoded. */
export interface RedisCredentials {
  username?: string;
  password?: string;
}

/**
 * What a Redis URL points at, one variant per topology. A single node keeps its URL, which
 * ioredis parses itself (host, port, credentials, db, its own query options) as it always has.
 */
export type RedisTarget =
  | { topology: 'single'; tls: boolean; url: string }
  | ({
    topology: 'sentinel'; tls: boolean; sentinels: RedisHostPort[]; masterName: string; db: number;
    sentinelUsername?: string; sentinelPassword?: string;
  } & RedisCredentials)
  | ({ topology: 'cluster'; tls: boolean; nodes: RedisHostPort[] } & RedisCredentials);

/** A Redis URL that cannot be used; the message says what is wrong without repeating any of the URL's values. */
export class RedisUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

/** The forms accepted, for error messages and docs. */
export const REDIS_URL_FORMS = 'redis://, rediss://, redis+sentinel://, rediss+sentinel://, redis+cluster:// or rediss+cluster://';

const DEFAULT_SENTINEL_PORT = 26379;
const DEFAULT_CLUSTER_PORT = 6379;
/** Query parameters each multi-host form understands; anything else is refused rather than ignored. */
const QUERY_PARAMETERS = { sentinel: ['sentinelUsername', 'sentinelPassword'], cluster: [] } as const;

// scheme://authority path ?query #fragment, split the way RFC 3986 appendix B does. WHATWG URL
// cannot be used for the multi-host forms: it reads `h1:26379,h2:26379` as host h1 with a bad port.
const URL_PARTS = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/;

/**
 * Parses a Redis URL into its topology. Throws {@link RedisUrlError} when the URL is malformed or
 * uses an unknown scheme or parameter; it may carry a password, so no message repeats a value.
 *
 * - `redis[s]://[user:pass@]host[:port][/db]`: one node (ioredis' own URL form).
 * - `redis[s]+sentinel://[user:pass@]host[:port][,host[:port]…]/masterName[/db][?sentinelUsername=…&sentinelPassword=…]`:
 *   the sentinels to ask for `masterName`'s current master (port 26379 by default); the user-info
 *   authenticates to the Redis nodes, the query parameters to the sentinels.
 * - `redis[s]+cluster://[user:pass@]host[:port][,host[:port]…]`: seed nodes of a Redis Cluster
 *   (port 6379 by default); the others are discovered. A cluster has no databases, so no path.
 */
export function parseRedisUrl(url: string): RedisTarget {
  const parts = URL_PARTS.exec(url);
  if (!parts) throw new RedisUrlError(`the Redis URL is not a valid URL: expected ${REDIS_URL_FORMS}`);
  const [, rawScheme = '', authority = '', path = '', query, fragment] = parts;
  const scheme = rawScheme.toLowerCase();
  if (fragment !== undefined) throw new RedisUrlError('the Redis URL must not have a #fragment');

  if (scheme === 'redis' || scheme === 'rediss') {
    try {
      new URL(url);
    } catch {
      throw new RedisUrlError('the Redis URL is not a valid URL');
    }
    return { topology: 'single', tls: scheme === 'rediss', url };
  }
  const match = /^(rediss?)\+(sentinel|cluster)$/.exec(scheme);
  if (!match) throw new RedisUrlError(`unsupported Redis URL scheme "${scheme}:": use ${REDIS_URL_FORMS}`);
  const tls = match[1] === 'rediss';
  const topology = match[2] as 'sentinel' | 'cluster';

  // The user-info ends at the last "@" of the authority, as in WHATWG URL (a password may hold "@" unencoded).
  const at = authority.lastIndexOf('@');
  const credentials = at < 0 ? {} : parseCredentials(authority.slice(0, at));
  const defaultPort = topology === 'sentinel' ? DEFAULT_SENTINEL_PORT : DEFAULT_CLUSTER_PORT;
  const hosts = parseHosts(authority.slice(at + 1), defaultPort, topology === 'sentinel' ? 'sentinel' : 'seed node');
  const params = parseQuery(query, QUERY_PARAMETERS[topology]);

  if (topology === 'cluster') {
    // A Redis Cluster serves database 0 only (SELECT is refused), so a path can only be a mistake.
    if (path !== '' && path !== '/') throw new RedisUrlError('a redis+cluster:// URL takes no path: a Redis Cluster has no databases to select');
    return { topology, tls, nodes: hosts, ...credentials };
  }

  const segments = path.split('/').slice(1);
  if (segments.at(-1) === '' && segments.length > 1) segments.pop();
  const [rawName = '', rawDb, ...extra] = segments;
  const masterName = decode(rawName, 'the master name');
  if (masterName === '') throw new RedisUrlError('a redis+sentinel:// URL needs the master name as its path: redis+sentinel://host:26379/mymaster');
  if (extra.length > 0) throw new RedisUrlError('a redis+sentinel:// URL path is /masterName or /masterName/db');
  let db = 0;
  if (rawDb !== undefined) {
    if (!/^(0|[1-9][0-9]{0,8})$/.test(rawDb)) throw new RedisUrlError('the database in a redis+sentinel:// URL must be a non-negative integer');
    db = Number(rawDb);
  }
  return {
    topology, tls, sentinels: hosts, masterName, db, ...credentials,
    ...(params.sentinelUsername === undefined ? {} : { sentinelUsername: params.sentinelUsername }),
    ...(params.sentinelPassword === undefined ? {} : { sentinelPassword: params.sentinelPassword }),
  };
}

/** The problem with `url` as a Redis URL, or undefined when it is usable; for config validation. */
export function redisUrlProblem(url: string): string | undefined {
  try {
    parseRedisUrl(url);
    return undefined;
  } catch (error) {
    if (error instanceof RedisUrlError) return error.message;
    throw error;
  }
}

function decode(value: string, what: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new RedisUrlError(`${what} in the Redis URL is not valid percent-encoding`);
  }
}

function parseCredentials(userInfo: string): RedisCredentials {
  const colon = userInfo.indexOf(':');
  const username = decode(colon < 0 ? userInfo : userInfo.slice(0, colon), 'the user name');
  const password = colon < 0 ? undefined : decode(userInfo.slice(colon + 1), 'the password');
  return { ...(username === '' ? {} : { username }), ...(password === undefined || password === '' ? {} : { password }) };
}

function parseHosts(list: string, defaultPort: number, what: string): RedisHostPort[] {
  if (list === '') throw new RedisUrlError(`the Redis URL names no ${what}: list them as host:port,host:port`);
  return list.split(',').map((entry, index) => {
    const problem = `${what} ${index + 1} of the Redis URL is not host[:port]`;
    let parsed: URL;
    try {
      // Borrow WHATWG's host and port rules (IPv6 in brackets, port range) for one entry at a time.
      parsed = new URL(`redis://${entry}`);
    } catch {
      throw new RedisUrlError(problem);
    }
    if (entry === '' || parsed.hostname === '' || parsed.username !== '' || parsed.password !== '' || parsed.pathname !== '') {
      throw new RedisUrlError(problem);
    }
    // Node's net.connect wants an IPv6 address without its URL brackets.
    const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
    return { host, port: parsed.port === '' ? defaultPort : Number(parsed.port) };
  });
}

function parseQuery(query: string | undefined, allowed: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  if (query === undefined || query === '?') return params;
  for (const [name, value] of new URLSearchParams(query.slice(1))) {
    // Only a name that looks like one is repeated in the message: a misplaced secret never is.
    const shown = /^[A-Za-z]{1,32}$/.test(name) ? `"${name}"` : '(name not shown)';
    if (!allowed.includes(name)) {
      throw new RedisUrlError(`unknown Redis URL parameter ${shown}${allowed.length > 0 ? `: use ${allowed.join(', ')}` : ': this form takes none'}`);
    }
    if (name in params) throw new RedisUrlError(`the Redis URL parameter ${shown} is given twice`);
    params[name] = value;
  }
  return params;
}
