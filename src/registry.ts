import pino, { type Logger } from 'pino';
import type { Kysely } from 'kysely';
import { createAdminServices } from './admin/index.js';
import { createAuditGroupCommit, createKyselyAuditQuery, createQueryAuditEvents } from './audit/index.js';
import {
  createAuditSealer, createKyselyAuditRelayStore, registerAuditBacklogGauges, sealIntervalMs, createKyselyAuditStore, createRecordAuditEvent, createRelayAuditEvents, createSealAuditChain,
  verifyAuditChain, type AuditLog, type AuditStore, type ChainVerification, type SealOutcome,
} from './audit/index.js';
import {
  createKyselyUserStore, createLogin, createPasswordHasher, createPasswordPolicy, createRegisterUser, loadCommonPasswords,
  type IdentityTxStores, type PasswordHasher,
} from './identity/index.js';
import type { Clock } from './platform/clock.js';
import { systemClock } from './platform/clock.js';
import type { Config } from './platform/config/schema.js';
import { type Database, migrateToLatest, openDatabase } from './platform/db/database.js';
import type { DB } from './platform/db/schema.js';
import { createTransact, type Transact } from './platform/db/transact.js';
import { createIdGenerator, type IdGenerator } from './platform/ids.js';
import { createMemoryExpiringSet } from './platform/kv/memory-expiring-set.js';
import type { ExpiringSet } from './platform/kv/expiring-set.js';
import type { RateLimiterFactory } from './platform/kv/rate-limiter.js';
import { createRedisConnection, duplicateForSubscriber, type RedisClient, waitForRedisReady } from './platform/kv/redis-connection.js';
import { guardRateLimiterFactory } from './platform/kv/guarded-rate-limiter.js';
import { createRedisExpiringSet } from './platform/kv/redis-expiring-set.js';
import { createRedisRateLimiterFactory } from './platform/kv/redis-rate-limiter.js';
import { memoryRateLimiterFactory } from './platform/kv/rlf-rate-limiter.js';
import type { ReadinessCheck } from './platform/observability/ops.routes.js';
import type { JobQueue } from './platform/queue/job-queue.js';
import { createLoggingJobObserver } from './platform/queue/logging-job-observer.js';
import { loggerOptions } from './platform/observability/logger.js';
import { createMetrics, type Metrics } from './platform/observability/metrics.js';
import { type Random, secureRandom } from './platform/random.js';
import type { RequestContext } from './platform/request-context.js';
import { createSecretBox } from './platform/secret-box.js';
import { createBlockedAuditThrottle, createLoginProtection, createRequestLimiter, rateLimitedProblem, type LimitRefusal } from './ratelimit/index.js';
import { createCheckAuthorization, createPolicyStore, loadPolicies } from './policy/index.js';
import {
  createAccessTokenVerifier, createEndSession, createKeyRing, createKyselySessionStore, createKyselySigningKeyStore,
  createRevocationReconciler, createRotateRefreshToken, createSessionRevocations, createSignAccessToken, createStartSession, type TokenOptions,
} from './tokens/index.js';
import { createFailureCountsReader, openServeJobQueues } from './worker.js';

/**
 * Distributed shared state: revocations in a Redis sorted set mirrored in memory through pub/sub
 * (no round trip on the request path; re-synced with the database's recent revocations on every
 * reconnect), limits in Redis with an in-process insurance limiter that answers while Redis is
 * down, or 503s instead under `redis.failClosed`.
 */
async function connectRedis(
  config: Readonly<Config>, clock: Clock, logger: Logger, metrics: Metrics,
  reconcile: () => Promise<ReadonlyArray<readonly [string, number]>>,
) {
  const onError = (error: unknown) => logger.warn({ err: error }, 'redis error');
  const client = createRedisConnection({
    url: config.redisUrl!, keyPrefix: config.redis.keyPrefix, commandTimeoutMs: config.redis.commandTimeoutMs,
    connectTimeoutMs: config.redis.connectTimeoutMs, connectionName: 'portcullis', onError,
  });
  const subscriber = duplicateForSubscriber(client, onError);
  const connections: ReadonlyArray<readonly [string, RedisClient]> = [['command', client], ['subscriber', subscriber]];
  for (const [connection, redisConnection] of connections) {
    const up = metrics.redisUp.labels({ connection });
    up.set(redisConnection.status === 'ready' ? 1 : 0);
    redisConnection.on('ready', () => up.set(1));
    redisConnection.on('close', () => up.set(0));
  }
  try {
    await waitForRedisReady(client, config.redis.startupTimeoutMs);
    const revocationSet = await createRedisExpiringSet({
      client, subscriber, channel: `${config.redis.keyPrefix}revocations`, keyPrefix: 'revocations', clock, onError,
      readyTimeoutMs: config.redis.startupTimeoutMs, reconcile,
    });
    const limiterFallbacks = metrics.redisFallbacks.labels({ component: 'ratelimit' });
    const limiters = guardRateLimiterFactory(
      createRedisRateLimiterFactory(client, { insuranceLimiter: !config.redis.failClosed }),
      { isAvailable: () => client.status === 'ready', failClosed: config.redis.failClosed, onFallback: () => limiterFallbacks.inc() },
    );
    return {
      revocationSet,
      limiters,
      ping: async () => {
        await client.ping();
        // Until the mirror has re-synced, revocation checks go to the database: not ready yet.
        if (!revocationSet.isInSync()) throw new Error('the revocation mirror has not re-synced since Redis reconnected');
      },
      close: async () => { await Promise.allSettled([client.quit(), subscriber.quit()]); },
    };
  } catch (error) {
    client.disconnect();
    subscriber.disconnect();
    throw new Error(`Redis did not become ready within ${config.redis.startupTimeoutMs} ms`, { cause: error });
  }
}

/** Everything the registry may be handed instead of building it (tests inject clocks, databases, hashers). */
export interface RegistryOverrides {
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  database?: Database;
  hasher?: PasswordHasher;
  metrics?: Metrics;
  masterKey?: Buffer;
  rateLimiters?: RateLimiterFactory;
  revocationSet?: ExpiringSet;
  /** Where sealed audit events are relayed. */
  jobQueue?: JobQueue;
  /** Skip migrations (the database is already migrated, e.g. a test snapshot). */
  skipMigrations?: boolean;
}

/** The composition root: adapters picked from config, services wired with their narrow deps. */
export type Registry = Awaited<ReturnType<typeof createRegistry>>;

/** The issuer when none is configured: where this instance listens. */
export function defaultIssuer(config: Pick<Config, 'host' | 'port' | 'issuer'>): string {
  return config.issuer ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
}

/** Builds the registry; call `start()` before serving and `close()` when done. */
export async function createRegistry(config: Readonly<Config>, overrides: RegistryOverrides = {}) {
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? secureRandom;
  const ids: IdGenerator = createIdGenerator(clock, random);
  const logger = overrides.logger ?? pino(loggerOptions(config.logLevel));
  const metrics = overrides.metrics ?? createMetrics();
  if (!overrides.masterKey) throw new Error('master key missing: resolve it before building the registry');
  const secretBox = createSecretBox(overrides.masterKey);

  const database = overrides.database ?? await openDatabase({
    databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: config.database.poolMax,
    statementTimeoutMs: config.database.statementTimeoutMs, connectTimeoutMs: config.database.connectTimeoutMs,
    embeddedSharedBuffersMb: config.database.embeddedSharedBuffersMb,
    onConnectionError: (error) => logger.warn({ err: error }, 'database connection lost'),
  });
  if (!overrides.skipMigrations) await migrateToLatest(database.db);
  const { db } = database;

  // Relayed security events: the in-process queue (embedded) or the BullMQ producer (distributed).
  const jobQueues = overrides.jobQueue ? undefined : await openServeJobQueues({ db, clock, config, logger, observer: createLoggingJobObserver(metrics, logger) });
  const jobQueue: JobQueue = overrides.jobQueue ?? jobQueues!.jobQueue;

  const recordAuditEvent = createRecordAuditEvent({ clock, ids });
  const auditLogFor = (tx: Kysely<DB>): AuditLog => {
    const store = createKyselyAuditStore(tx);
    return { record: async (input) => { await recordAuditEvent(store, input); } };
  };
  const bindStores = (tx: Kysely<DB>): IdentityTxStores => {
    const txUsers = createKyselyUserStore(tx);
    return {
      users: txUsers, sessions: createKyselySessionStore(tx), audit: auditLogFor(tx),
      subjects: {
        findSubject: async (userId) => {
          const user = await txUsers.findById(userId);
          return user && { id: user.id, roles: user.roles, tenant: user.tenant, locked: user.lockedAt !== null };
        },
      },
    };
  };
  // Audit events are written unsealed; the sealer chains them after commit (one sealer at a time across instances).
  const auditStore = createKyselyAuditStore(db);
  const auditRelayStore = createKyselyAuditRelayStore(db);
  registerAuditBacklogGauges(metrics.registry, {
    audit: auditStore, relay: auditRelayStore,
    onError: (error) => logger.warn({ err: error }, 'audit backlog gauges could not be read; they show NaN for this scrape'),
  });
  const auditSealer = createAuditSealer({
    seal: createSealAuditChain({
      audit: auditStore, batchSize: config.audit.sealBatchSize,
      transact: createTransact(db, (tx): { audit: AuditStore } => ({ audit: createKyselyAuditStore(tx) })),
    }),
    relay: createRelayAuditEvents({
      relay: auditRelayStore, audit: auditStore, queue: jobQueue, owner: ids.next(),
      batchSize: config.audit.relayBatchSize, leaseMs: config.audit.relayLeaseMs,
    }),
    intervalMs: sealIntervalMs(config.audit.sealIntervalMs, config.databaseUrl !== undefined),
    onError: (error) => logger.error({ err: error }, 'audit seal or relay pass failed; the events wait for the next pass'),
  });
  const transactStores = createTransact(db, bindStores);
  const transact: Transact<IdentityTxStores> = async (work) => {
    const result = await transactStores(work);
    auditSealer.nudge();
    return result;
  };
  // Denials and blocks record no change of their own: concurrent ones share a transaction, so a
  // flood of refused requests costs one commit per batch, not one per request.
  const standaloneAudit = createAuditGroupCommit({ transact, maxBatch: 200 });
  const users = createKyselyUserStore(db);
  const sessions = createKyselySessionStore(db);

  const tokenOptions: TokenOptions = {
    issuer: defaultIssuer(config), audience: config.audience, accessTtlSeconds: config.tokens.accessTtlSeconds,
    clockSkewSeconds: config.tokens.clockSkewSeconds, sessionIdleTtlSeconds: config.tokens.sessionIdleTtlSeconds,
    sessionAbsoluteTtlSeconds: config.tokens.sessionAbsoluteTtlSeconds,
  };
  const keyRing = createKeyRing({
    store: createKyselySigningKeyStore(db), secretBox, clock, ids,
    options: { ...config.tokens, algorithm: config.tokens.algorithm },
  });
  const redis = config.redisUrl && !overrides.revocationSet && !overrides.rateLimiters
    ? await connectRedis(config, clock, logger, metrics, createRevocationReconciler({ sessions, clock, options: tokenOptions }))
    : undefined;
  const revocationSet = overrides.revocationSet ?? redis?.revocationSet ?? createMemoryExpiringSet(clock);
  const revocationFallbacks = { revocation_check: metrics.redisFallbacks.labels({ component: 'revocation_check' }), revocation_publish: metrics.redisFallbacks.labels({ component: 'revocation_publish' }) };
  // Distributed: while Redis is down or the mirror re-syncing, revocation checks read the database.
  const revocations = createSessionRevocations(revocationSet, tokenOptions, redis && {
    isInSync: redis.revocationSet.isInSync, sessions, clock,
    onFallback: (component) => revocationFallbacks[component].inc(),
    onError: (error) => logger.warn({ err: error }, 'revocation not yet shared through Redis; the database has it and it is re-published on reconnect'),
  });
  const signAccessToken = createSignAccessToken({ keyRing, clock, ids, options: tokenOptions });
  const verifyAccessToken = createAccessTokenVerifier({
    keyRing, clock, options: tokenOptions, cacheSize: config.tokens.verifiedCacheSize,
    onCacheLookup: metrics.countVerifiedCacheLookup,
  });

  const limiters = overrides.rateLimiters ?? redis?.limiters ?? memoryRateLimiterFactory;
  const loginProtection = createLoginProtection(limiters, config.loginProtection);
  const requestLimiter = createRequestLimiter(limiters, config.rateLimit.authenticated);
  const shouldAuditBlock = createBlockedAuditThrottle();
  const refuseForRateLimit = async (refusal: LimitRefusal, key: string, ctx: RequestContext, actor?: string): Promise<Error> => {
    metrics.rateLimitBlocks.inc({ limiter: refusal.limiter });
    if (shouldAuditBlock(refusal.limiter, key, refusal.retryAfterSeconds)) {
      await standaloneAudit.record({
        type: 'ratelimit.blocked', outcome: 'blocked', actor: actor ?? null, ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId,
        data: { limiter: refusal.limiter, retryAfterSeconds: refusal.retryAfterSeconds },
      });
    }
    return rateLimitedProblem(refusal);
  };

  const hasher = overrides.hasher ?? await createPasswordHasher();
  const passwordPolicy = createPasswordPolicy(
    { minLength: config.password.minLength, maxLength: config.password.maxLength },
    loadCommonPasswords(),
  );
  const startSession = createStartSession({ clock, ids, random, options: tokenOptions, signAccessToken });
  const registerUser = createRegisterUser({ clock, ids, hasher, passwordPolicy, loginProtection, refuseForRateLimit, transact });
  const login = createLogin({ clock, users, hasher, loginProtection, refuseForRateLimit, startSession, transact, metrics });
  const rotateRefreshToken = createRotateRefreshToken({
    clock, random, options: tokenOptions, transact, revocations, signAccessToken,
  });
  const endSession = createEndSession({ clock, transact, revocations });

  const policies = createPolicyStore({
    dir: config.policy.dir,
    initial: await loadPolicies(config.policy.dir),
    load: (dir) => loadPolicies(dir),
    onError: (error) => {
      metrics.policyReloads.inc({ outcome: 'failed' });
      logger.error({ err: error }, 'policy reload failed; the previous policy set stays in force');
    },
    onReload: () => {
      metrics.policyReloads.inc({ outcome: 'succeeded' });
      logger.info('policies reloaded');
    },
  });
  const checkAuthorization = createCheckAuthorization({
    policies, clock, random, allowSampleRate: config.policy.auditAllowSampleRate,
    audit: ({ type, caller, question, decisions }) => standaloneAudit.record({
      type, outcome: type === 'policy.denied' ? 'failure' : 'success', actor: caller.sub, subject: `${question.resource.kind}/${question.resource.id}`,
      data: { principal: { id: question.principal.id, roles: question.principal.roles }, resource: { kind: question.resource.kind, id: question.resource.id }, decisions },
    }),
  });

  const admin = createAdminServices({
    policies, clock, ids, hasher, passwordPolicy, masterKey: overrides.masterKey, users, transact, revocations,
    auditQuery: createQueryAuditEvents(createKyselyAuditQuery(db)),
    // Like `audit verify`: seal what is committed first, so the answer covers every event so far.
    verifyAuditChain: async () => { await auditSealer.flush(); return verifyAuditChain(auditStore); },
    sealAuditEvents: () => auditSealer.seal(),
    recordDenial: ({ caller, resource, action, decision, ctx }) => standaloneAudit.record({
      type: 'policy.denied', outcome: 'failure', actor: caller.sub, subject: `${resource.kind}/${resource.id}`,
      ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId,
      data: { resource: { kind: resource.kind, id: resource.id }, action, decision: { policy: decision.policy, rule: decision.rule } },
    }),
  });

  const timers: NodeJS.Timeout[] = [];
  const readiness: ReadinessCheck[] = [{ name: 'database', check: () => database.ping() }];
  if (redis) readiness.push({ name: 'redis', check: () => redis.ping() });

  return {
    config, clock, random, ids, logger, metrics, database, tokenOptions,
    keyRing, revocations, verifyAccessToken, requestLimiter, loginProtection,
    policies, checkAuthorization, admin,
    registerUser, login, rotateRefreshToken, endSession, signAccessToken, startSession, transact,
    readiness,
    findUser: (id: string) => users.findById(id),
    jobQueue,
    /** Failure statistics for detection rules: `failureCounts({dimension, key, sinceMs})`. */
    failureCounts: createFailureCountsReader(db, config),
    verifyAuditChain: (): Promise<ChainVerification> => verifyAuditChain(auditStore),
    /** Seals every audit event committed so far (waiting for another sealer if one is running), then relays. */
    sealAuditChain: (): Promise<SealOutcome> => auditSealer.flush(),

    /** Loads keys and recent revocations, then keeps the key ring fresh. */
    async start(): Promise<void> {
      await keyRing.refresh();
      // Opens (and imports) the signing key now: a master key that cannot open it stops start-up
      // with a clear message (SigningKeyUnreadableError) instead of a 500 at the first login.
      await keyRing.signingKey();
      // Revocations are in memory: rebuild the ones whose tokens could still be live after a restart
      // (the Redis set has already done so with the database's list while loading).
      const horizon = new Date(clock.nowMs() - (tokenOptions.accessTtlSeconds + tokenOptions.clockSkewSeconds) * 1000);
      if (!redis) for (const { id, revokedAt } of await sessions.listRevokedSince(horizon)) await revocations.publish(id, revokedAt.getTime());
      const refresh = setInterval(() => {
        keyRing.refresh().catch((error: unknown) => logger.error({ err: error }, 'key ring refresh failed'));
      }, config.tokens.keyRefreshSeconds * 1000);
      refresh.unref();
      timers.push(refresh);
      metrics.signingKeys.set({ state: 'published' }, keyRing.publishedKeys().length);
      if (config.policy.watch) policies.watch();
      // The BullMQ consumer under queue.consumeInServe, and pruning wherever handlers run here.
      await jobQueues?.start();
      auditSealer.start();
    },

    /** Stops timers and closes the database; in-flight requests must have finished. */
    async close(): Promise<void> {
      // A last seal (and relay) pass before anything it needs closes; it never throws. A handler
      // that keeps failing would hold that relay for its whole retry schedule (5 attempts from 1 s
      // backoff outlast the 10 s grace): at half the grace the queue closes, which releases the
      // jobs waiting for a retry; the relay keeps its position, so they are delivered again after
      // the restart (at least once) instead of the process being killed mid-close.
      const releaseQueue = setTimeout(() => { void jobQueues?.close(); }, config.http.shutdownGraceMs / 2);
      await auditSealer.close();
      clearTimeout(releaseQueue);
      // After the last relay pass; waits for running handlers, which still need the database.
      await jobQueues?.close();
      for (const timer of timers) clearInterval(timer);
      policies.close();
      await revocationSet.close();
      await redis?.close();
      if (!overrides.hasher) await hasher.close();
      if (!overrides.database) await database.close();
    },
  };
}
