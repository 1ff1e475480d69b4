import pino, { type Logger } from 'pino';
import type { Kysely } from 'kysely';
import { createKyselyAuditStore, createRecordAuditEvent, verifyAuditChain, type AuditLog, type ChainVerification } from './audit/index.js';
import {
  createKyselyUserStore, createLogin, createPasswordHasher, createPasswordPolicy, createRegisterUser, loadCommonPasswords,
  type IdentityTxStores, type PasswordHasher,
} from './identity/index.js';
import type { Clock } from './platform/clock.js';
import { systemClock } from './platform/clock.js';
import type { Config } from './platform/config/schema.js';
import { type Database, migrateToLatest, openDatabase } from './platform/db/database.js';
import type { DB } from './platform/db/schema.js';
import { createTransact } from './platform/db/transact.js';
import { createIdGenerator, type IdGenerator } from './platform/ids.js';
import { createMemoryExpiringSet } from './platform/kv/memory-expiring-set.js';
import type { ExpiringSet } from './platform/kv/expiring-set.js';
import type { RateLimiterFactory } from './platform/kv/rate-limiter.js';
import { createRedisConnection, duplicateForSubscriber, waitForRedisReady } from './platform/kv/redis-connection.js';
import { createRedisExpiringSet } from './platform/kv/redis-expiring-set.js';
import { createRedisRateLimiterFactory } from './platform/kv/redis-rate-limiter.js';
import { memoryRateLimiterFactory } from './platform/kv/rlf-rate-limiter.js';
import type { ReadinessCheck } from './platform/observability/ops.routes.js';
import { loggerOptions } from './platform/observability/logger.js';
import { createMetrics, type Metrics } from './platform/observability/metrics.js';
import { type Random, secureRandom } from './platform/random.js';
import type { RequestContext } from './platform/request-context.js';
import { createSecretBox } from './platform/secret-box.js';
import { createBlockedAuditThrottle, createLoginProtection, createRequestLimiter, rateLimitedProblem, type LimitRefusal } from './ratelimit/index.js';
import { createCheckAuthorization, createPolicyStore, loadPolicies } from './policy/index.js';
import {
  createAccessTokenVerifier, createEndSession, createKeyRing, createKyselySessionStore, createKyselySigningKeyStore,
  createRotateRefreshToken, createSessionRevocations, createSignAccessToken, createStartSession, type TokenOptions,
} from './tokens/index.js';

/**
 * Distributed shared state: revocations in a Redis sorted set mirrored in memory through pub/sub
 * (no round trip on the request path), limits in Redis with an in-process insurance limiter that
 * answers while Redis is down.
 */
async function connectRedis(config: Readonly<Config>, clock: Clock, logger: Logger) {
  const onError = (error: unknown) => logger.warn({ err: error }, 'redis error');
  const client = createRedisConnection({
    url: config.redisUrl!, keyPrefix: config.redis.keyPrefix, commandTimeoutMs: config.redis.commandTimeoutMs,
    connectTimeoutMs: config.redis.connectTimeoutMs, connectionName: 'portcullis', onError,
  });
  const subscriber = duplicateForSubscriber(client, onError);
  try {
    await waitForRedisReady(client, config.redis.startupTimeoutMs);
    const revocationSet = await createRedisExpiringSet({
      client, subscriber, channel: `${config.redis.keyPrefix}revocations`, keyPrefix: 'revocations', clock, onError,
      readyTimeoutMs: config.redis.startupTimeoutMs,
    });
    return {
      revocationSet,
      limiters: createRedisRateLimiterFactory(client, { insuranceLimiter: true }),
      ping: async () => { await client.ping(); },
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
  });
  if (!overrides.skipMigrations) await migrateToLatest(database.db);
  const { db } = database;

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
  const transact = createTransact(db, bindStores);
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
  const redis = config.redisUrl && !overrides.revocationSet && !overrides.rateLimiters ? await connectRedis(config, clock, logger) : undefined;
  const revocationSet = overrides.revocationSet ?? redis?.revocationSet ?? createMemoryExpiringSet(clock);
  const revocations = createSessionRevocations(revocationSet, tokenOptions);
  const signAccessToken = createSignAccessToken({ keyRing, clock, ids, options: tokenOptions });
  const cacheHits = metrics.verifiedCache.labels({ result: 'hit' });
  const cacheMisses = metrics.verifiedCache.labels({ result: 'miss' });
  const verifyAccessToken = createAccessTokenVerifier({
    keyRing, clock, options: tokenOptions, cacheSize: config.tokens.verifiedCacheSize,
    onCacheLookup: (hit) => (hit ? cacheHits : cacheMisses).inc(),
  });

  const limiters = overrides.rateLimiters ?? redis?.limiters ?? memoryRateLimiterFactory;
  const loginProtection = createLoginProtection(limiters, config.loginProtection);
  const requestLimiter = createRequestLimiter(limiters, config.rateLimit.authenticated);
  const shouldAuditBlock = createBlockedAuditThrottle();
  const refuseForRateLimit = async (refusal: LimitRefusal, key: string, ctx: RequestContext, actor?: string): Promise<Error> => {
    metrics.rateLimitBlocks.inc({ limiter: refusal.limiter });
    if (shouldAuditBlock(refusal.limiter, key, refusal.retryAfterSeconds)) {
      await transact(({ audit }) => audit.record({
        type: 'ratelimit.blocked', outcome: 'blocked', actor: actor ?? null, ip: ctx.ip, userAgent: ctx.userAgent, requestId: ctx.requestId,
        data: { limiter: refusal.limiter, retryAfterSeconds: refusal.retryAfterSeconds },
      }));
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
    audit: ({ type, caller, question, decisions }) => transact(({ audit }) => audit.record({
      type, outcome: type === 'policy.denied' ? 'failure' : 'success', actor: caller.sub, subject: `${question.resource.kind}/${question.resource.id}`,
      data: { principal: { id: question.principal.id, roles: question.principal.roles }, resource: { kind: question.resource.kind, id: question.resource.id }, decisions },
    })),
  });

  const timers: NodeJS.Timeout[] = [];
  const readiness: ReadinessCheck[] = [{ name: 'database', check: () => database.ping() }];
  if (redis) readiness.push({ name: 'redis', check: () => redis.ping() });

  return {
    config, clock, random, ids, logger, metrics, database, tokenOptions,
    keyRing, revocations, verifyAccessToken, requestLimiter, loginProtection,
    policies, checkAuthorization,
    registerUser, login, rotateRefreshToken, endSession, signAccessToken, startSession, transact,
    readiness,
    findUser: (id: string) => users.findById(id),
    verifyAuditChain: (): Promise<ChainVerification> => verifyAuditChain(createKyselyAuditStore(db)),

    /** Loads keys and recent revocations, then keeps the key ring fresh. */
    async start(): Promise<void> {
      await keyRing.refresh();
      // Revocations are in memory: rebuild the ones whose tokens could still be live after a restart.
      const horizon = new Date(clock.nowMs() - (tokenOptions.accessTtlSeconds + tokenOptions.clockSkewSeconds) * 1000);
      for (const { id, revokedAt } of await sessions.listRevokedSince(horizon)) await revocations.publish(id, revokedAt.getTime());
      const refresh = setInterval(() => {
        keyRing.refresh().catch((error: unknown) => logger.error({ err: error }, 'key ring refresh failed'));
      }, config.tokens.keyRefreshSeconds * 1000);
      refresh.unref();
      timers.push(refresh);
      metrics.signingKeys.set({ state: 'published' }, keyRing.publishedKeys().length);
      if (config.policy.watch) policies.watch();
    },

    /** Stops timers and closes the database; in-flight requests must have finished. */
    async close(): Promise<void> {
      for (const timer of timers) clearInterval(timer);
      policies.close();
      await revocationSet.close();
      await redis?.close();
      if (!overrides.database) await database.close();
    },
  };
}
