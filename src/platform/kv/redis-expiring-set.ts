import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { ExpiringSet } from './expiring-set.js';
import { createExpiryMirror } from './expiry-mirror.js';
import type { RedisClient } from './redis-connection.js';

/** What the Redis ExpiringSet needs. */
export interface RedisExpiringSetDeps {
  /**
   * Command connection (shared with other adapters); never put into subscriber mode. On a Redis
   * Cluster every command here touches the one key of this set (MULTI included), so all run in its slot.
   */
  client: RedisClient;
  /** Dedicated connection for SUBSCRIBE (see `duplicateForSubscriber`); may be shared by several sets, each on its own channel. */
  subscriber: Redis;
  /** Pub/sub channel of this set. ioredis' keyPrefix does not apply to channels, so include the deployment's prefix here. */
  channel: string;
  /** Namespace of this set's key; the members live in the sorted set `<keyPrefix>:members` (after the connection's own prefix). */
  keyPrefix: string;
  /** Judges expiry, in the mirror and in the Redis queries alike. */
  clock: Clock;
  /** How often the mirror drops expired members and Redis prunes old ones; default 60 s. */
  sweepEveryMs?: number;
  /** The factory rejects if the first load has not succeeded by then; default 10 s. */
  readyTimeoutMs?: number;
  /** Background failures (reload retries, prune, malformed messages): they never reject a caller, so they are reported here. */
  onError?: (error: unknown) => void;
  /**
   * Members the source of truth (the database) says must be in the set, as `[member, expiresAtMs]`.
   * Read after every (re)load from Redis; the ones Redis lacks are merged, written and published,
   * so an add that failed during an outage, on any instance, reaches every instance once Redis is
   * back. The set counts as in sync only after this succeeds.
   */
  reconcile?: () => Promise<ReadonlyArray<readonly [string, number]>>;
  /** How often an add that failed is retried until Redis takes it; default 1 s. */
  retryUnpublishedMs?: number;
}

/** The Redis ExpiringSet, which can also tell whether its mirror may be missing members. */
export interface RedisExpiringSet extends ExpiringSet {
  /**
   * True while both connections are up and the mirror has re-synced (reload + reconcile) since the
   * subscriber last connected: only then does `has` reflect every instance's adds. Synchronous and
   * allocation-free, for the request path.
   */
  isInSync(): boolean;
}

/**
 * Members stay in Redis this long past their expiry before a prune removes them, so an instance
 * whose clock runs ahead cannot prune a member that the others still judge live (and would then
 * miss on their next reload).
 */
const PRUNE_GRACE_MS = 60_000;
const MAX_RETRY_DELAY_MS = 1_000;
/** Members per MULTI when writing many at once (a reconcile after an outage). */
const WRITE_CHUNK = 500;

/**
 * Redis-backed ExpiringSet for distributed mode: the members live in one sorted set scored by
 * expiry (ms since the epoch), every instance keeps a local mirror fed by pub/sub, so `has` is
 * synchronous and costs no round trip.
 *
 * Why a sorted set rather than one key per member with a PX TTL: reloading the live set is one
 * `ZRANGEBYSCORE (now +inf` instead of a SCAN over the whole keyspace (slow, not a snapshot,
 * per-node under Cluster); "adding again keeps the later expiry" is `ZADD GT` (Redis >= 6.2), atomic
 * without a script; and expiry is judged by our injected clock on both sides, never by Redis's own
 * clock, so the mirror and the store agree. Expired members are pruned with `ZREMRANGEBYSCORE` on
 * the sweep timer (an emptied sorted set disappears on its own).
 *
 * Consistency: `add` updates the local mirror first (the writer sees its own write at once), then
 * writes and publishes in one MULTI/EXEC, so Redis never holds a member that was not announced.
 * Whenever the subscriber (re)connects, the adapter subscribes, waits for the confirmation, and only
 * then reloads the live set: anything added before the reload read is in it, anything after is
 * published to a subscription that already exists. Merging keeps the later expiry, so duplicates
 * and reordering are harmless. The factory resolves only after the first load.
 *
 * Failure behaviour: while Redis is unreachable `add` rejects at once or within the connection's
 * command timeout (the member stays in this instance's mirror: a revocation known locally is never
 * forgotten, and it is retried every `retryUnpublishedMs` until Redis takes it), and `has` keeps
 * answering from the mirror, which misses members added on other instances until the subscriber
 * reconnects and reloads (retried with capped backoff); `isInSync()` is false meanwhile, so the
 * caller can consult its source of truth instead.
 */
export async function createRedisExpiringSet(deps: RedisExpiringSetDeps): Promise<RedisExpiringSet> {
  const { client, subscriber, channel, clock } = deps;
  const key = `${deps.keyPrefix}:members`;
  const report = deps.onError ?? (() => {});
  const mirror = createExpiryMirror(clock);
  const { merge, sweep } = mirror;
  let closed = false;
  // Each (re)connect starts a new generation; an older reload loop stops when it sees a newer one.
  let generation = 0;
  // True once the current generation has reloaded and reconciled; cleared whenever the subscriber drops.
  let synced = false;
  // Members whose write failed, with their expiry: retried until Redis takes them (or they expire).
  const unpublished = new Map<string, number>();
  let flushTimer: NodeJS.Timeout | undefined;
  let flushing = false;
  let markReady: () => void = () => {};
  const firstLoad = new Promise<void>((resolve) => { markReady = resolve; });

  const onMessage = (from: string, message: string) => {
    if (from !== channel) return;
    // Wire format `<expiresAtMs>:<member>`: the number never holds a colon, the member may.
    const colon = message.indexOf(':');
    const expiresAtMs = colon > 0 ? Number(message.slice(0, colon)) : Number.NaN;
    if (!Number.isFinite(expiresAtMs)) {
      report(new Error(`ignored a malformed message on ${channel}`));
      return;
    }
    merge(message.slice(colon + 1), expiresAtMs);
  };

  /** ZADD GT + PUBLISH for each entry, in MULTI/EXEC chunks; rejects on the first failure. */
  async function write(entries: ReadonlyArray<readonly [string, number]>): Promise<void> {
    for (let start = 0; start < entries.length; start += WRITE_CHUNK) {
      const multi = client.multi();
      for (const [member, expiresAtMs] of entries.slice(start, start + WRITE_CHUNK)) {
        multi.zadd(key, 'GT', expiresAtMs, member).publish(channel, `${expiresAtMs}:${member}`);
      }
      const results = await multi.exec();
      // exec resolves null when the transaction is aborted, and reports per-command errors in its results.
      if (results === null) throw new Error('Redis aborted the ExpiringSet transaction');
      for (const [error] of results) if (error) throw error;
    }
  }

  function scheduleFlush(): void {
    if (flushTimer || closed) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      void flushUnpublished();
    }, deps.retryUnpublishedMs ?? 1_000);
    flushTimer.unref();
  }

  /** Writes the members whose add failed; never rejects (a failure reschedules it). */
  async function flushUnpublished(): Promise<void> {
    if (flushing || closed || unpublished.size === 0) return;
    flushing = true;
    try {
      const now = clock.nowMs();
      const live: Array<[string, number]> = [];
      for (const [member, expiresAtMs] of unpublished) {
        if (expiresAtMs > now) live.push([member, expiresAtMs]);
        else unpublished.delete(member);
      }
      await write(live);
      // An add of the same member during the write keeps its own (later) entry.
      for (const [member, expiresAtMs] of live) if (unpublished.get(member) === expiresAtMs) unpublished.delete(member);
    } catch (error) {
      report(error);
      scheduleFlush();
    } finally {
      flushing = false;
    }
  }

  async function load(): Promise<void> {
    // Subscribe first and wait for the server's confirmation (repeating SUBSCRIBE is harmless when
    // ioredis has already resubscribed on its own): from here on no add can slip between the two.
    await subscriber.subscribe(channel);
    const flat = await client.zrangebyscore(key, `(${clock.nowMs()}`, '+inf', 'WITHSCORES');
    const inRedis = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const member = flat[i] as string;
      const expiresAtMs = Number(flat[i + 1]);
      merge(member, expiresAtMs);
      inRedis.set(member, expiresAtMs);
    }
    if (deps.reconcile) {
      // The source of truth may hold members whose add failed while Redis was down (on any
      // instance) or that a restarted, empty Redis lost: put them back, and tell the others.
      const now = clock.nowMs();
      const missing: Array<readonly [string, number]> = [];
      for (const entry of await deps.reconcile()) {
        const [member, expiresAtMs] = entry;
        if (!(expiresAtMs > now)) continue;
        merge(member, expiresAtMs);
        if (!((inRedis.get(member) ?? 0) >= expiresAtMs)) missing.push(entry);
      }
      await write(missing);
    }
    await flushUnpublished();
  }

  async function resync(): Promise<void> {
    const mine = ++generation;
    synced = false;
    for (let attempt = 1; !closed && mine === generation; attempt++) {
      try {
        await load();
        if (!closed && mine === generation) {
          synced = true;
          markReady();
        }
        return;
      } catch (error) {
        // Typically the command connection is still reconnecting (no offline queue): try again.
        report(error);
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, MAX_RETRY_DELAY_MS)).unref());
      }
    }
  }

  const onReady = () => { void resync(); };
  const onSubscriberClose = () => { synced = false; };
  // The command connection came back: retry failed adds now, and re-sync if the subscriber
  // reconnected first (its reload could not read Redis then, and its retries back off).
  const onClientReady = () => {
    if (!synced && subscriber.status === 'ready') void resync();
    else void flushUnpublished();
  };

  const prune = async () => {
    try {
      await client.zremrangebyscore(key, '-inf', clock.nowMs() - PRUNE_GRACE_MS);
    } catch (error) {
      report(error);
    }
  };

  subscriber.on('message', onMessage);
  subscriber.on('ready', onReady);
  subscriber.on('close', onSubscriberClose);
  client.on('ready', onClientReady);
  // Already connected: no 'ready' will come for this connection, so load now.
  if (subscriber.status === 'ready') onReady();

  const timer = setInterval(() => {
    sweep();
    void prune();
  }, deps.sweepEveryMs ?? 60_000);
  timer.unref();

  const set: RedisExpiringSet = {
    async add(member, expiresAtMs) {
      if (!Number.isFinite(expiresAtMs)) throw new TypeError('expiresAtMs must be a finite number of milliseconds');
      merge(member, expiresAtMs);
      // Already expired: nothing any instance would ever answer `true` for.
      if (expiresAtMs <= clock.nowMs()) return;
      try {
        await write([[member, expiresAtMs]]);
      } catch (error) {
        // Keep it for the retry (the later expiry wins), and still tell the caller it is not shared yet.
        if (!((unpublished.get(member) ?? 0) >= expiresAtMs)) unpublished.set(member, expiresAtMs);
        scheduleFlush();
        throw error;
      }
    },
    has: (member) => mirror.has(member),
    size: () => mirror.size(),
    isInSync: () => synced && subscriber.status === 'ready' && client.status === 'ready',
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      clearTimeout(flushTimer);
      subscriber.off('message', onMessage);
      subscriber.off('ready', onReady);
      subscriber.off('close', onSubscriberClose);
      client.off('ready', onClientReady);
      // The connections belong to whoever opened them (the command one is shared); leave only our channel.
      if (subscriber.status === 'ready') await subscriber.unsubscribe(channel).catch(report);
    },
  };

  const timeoutMs = deps.readyTimeoutMs ?? 10_000;
  let readyTimer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => { readyTimer = setTimeout(() => resolve('timeout'), timeoutMs); });
  const outcome = await Promise.race([firstLoad.then(() => 'ready' as const), timedOut]);
  clearTimeout(readyTimer);
  if (outcome === 'timeout') {
    await set.close();
    throw new Error(`the Redis ExpiringSet could not load its members within ${timeoutMs} ms`);
  }
  return set;
}
