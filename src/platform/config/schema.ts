import { z } from 'zod';
import { REDIS_URL_FORMS, redisUrlProblem } from '../kv/redis-url.js';

const seconds = (def: number) => z.number().int().positive().default(def);

const limiterRule = (points: number, durationSeconds: number) =>
  z.strictObject({ points: z.number().int().positive().default(points), durationSeconds: seconds(durationSeconds) }).prefault({});

/** The one configuration schema: defaults live here, the file and env may override any leaf. */
export const configSchema = z.strictObject({
  nodeEnv: z.enum(['development', 'production', 'test']).default('development'),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  dataDir: z.string().min(1).default('./data'),
  databaseUrl: z.string().url().optional(),
  /**
   * Redis; unset means in-process state. One node: `redis://[user:pass@]host:6379[/db]`. Sentinel:
   * `redis+sentinel://[user:pass@]host:26379[,host:26379…]/masterName[/db][?sentinelPassword=…]`
   * (user-info for the Redis nodes, `sentinelUsername`/`sentinelPassword` for the sentinels).
   * Cluster: `redis+cluster://[user:pass@]host:6379[,host:6379…]` (seed nodes). `rediss…` for TLS.
   */
  redisUrl: z.string().regex(/^rediss?(\+sentinel|\+cluster)?:\/\//i, { message: `must be a ${REDIS_URL_FORMS} URL`, abort: true }).superRefine((url, ctx) => {
    // The message never repeats the URL: it may hold a password.
    const problem = redisUrlProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }).optional(),
  /** 32 random bytes, base64; encrypts private keys and other secrets at rest. */
  masterKey: z.string().min(1).optional(),
  issuer: z.string().url().optional(),
  audience: z.string().min(1).default('portcullis'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  http: z.strictObject({
    /** Trust X-Forwarded-* from: false, true (any), a hop count, or a comma-separated list of addresses/CIDRs. */
    trustProxy: z.union([z.boolean(), z.number().int().nonnegative(), z.string()]).default(false),
    bodyLimitBytes: z.number().int().positive().default(64 * 1024),
    corsOrigins: z.array(z.string().min(1)).default([]),
    requestTimeoutMs: z.number().int().positive().default(30_000),
    headersTimeoutMs: z.number().int().positive().default(10_000),
    keepAliveTimeoutMs: z.number().int().positive().default(5_000),
    shutdownGraceMs: z.number().int().positive().default(10_000),
  }).prefault({}),
  redis: z.strictObject({
    /** Prefix of every key and channel, so several deployments can share one Redis. */
    keyPrefix: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/).default('portcullis:'),
    commandTimeoutMs: z.number().int().positive().default(500),
    connectTimeoutMs: z.number().int().positive().default(2_000),
    /** How long start-up waits for Redis before giving up. */
    startupTimeoutMs: z.number().int().positive().default(10_000),
    /**
     * While Redis is down, rate-limited routes answer 503 with Retry-After instead of counting in an
     * in-process insurance limiter per instance (the default: weaker limits, but requests keep flowing).
     */
    failClosed: z.boolean().default(false),
  }).prefault({}),
  database: z.strictObject({
    poolMax: z.number().int().positive().default(10),
    statementTimeoutMs: z.number().int().positive().default(5_000),
    connectTimeoutMs: z.number().int().positive().default(5_000),
    /**
     * Embedded mode only: PGlite's shared_buffers in MiB. PostgreSQL's default (128) is ~100 MiB of
     * an idle process; an embedded deployment's tables fit in far less, and the OS caches the files.
     */
    embeddedSharedBuffersMb: z.number().int().min(1).max(4096).default(32),
  }).prefault({}),
  password: z.strictObject({
    /** NIST SP 800-63B rev 4: 15 when the password is the only factor. */
    minLength: z.number().int().min(8).max(128).default(15),
    maxLength: z.number().int().min(64).max(1024).default(128),
    mfaEnforced: z.boolean().default(false),
  }).refine((p) => p.minLength >= 15 || p.mfaEnforced, {
    message: 'minLength below 15 is allowed only with mfaEnforced (NIST SP 800-63B rev 4: 8 is the floor with a second factor)',
    path: ['minLength'],
  }).refine((p) => p.maxLength >= p.minLength, { message: 'maxLength must be at least minLength', path: ['maxLength'] }).prefault({}),
  tokens: z.strictObject({
    algorithm: z.enum(['ES256', 'EdDSA', 'RS256']).default('ES256'),
    accessTtlSeconds: seconds(600),
    clockSkewSeconds: z.number().int().min(0).max(300).default(30),
    /** A new key is published this long before it starts signing, so every verifier has it first. */
    keyActivationDelaySeconds: z.number().int().min(0).default(600),
    /** Sign with a fresh key this often; 0 turns automatic rotation off. */
    keyRotationIntervalDays: z.number().min(0).default(30),
    /** How often each instance re-reads the key ring from the database. */
    keyRefreshSeconds: seconds(60),
    sessionIdleTtlSeconds: seconds(14 * 24 * 3600),
    sessionAbsoluteTtlSeconds: seconds(30 * 24 * 3600),
    /** Verified-token cache entries; 0 disables the cache. */
    verifiedCacheSize: z.number().int().min(0).default(10_000),
  }).prefault({}),
  loginProtection: z.strictObject({
    /** Consecutive failures for one account from one IP before it is locked out for a growing delay. */
    maxConsecutiveFailures: z.number().int().positive().default(5),
    baseLockSeconds: seconds(30),
    maxLockSeconds: seconds(3600),
    /** Failed logins one IP may make per day, across all accounts. */
    ipDailyFailures: z.number().int().positive().default(100),
    registration: limiterRule(10, 3600),
  }).prefault({}),
  policy: z.strictObject({
    /** Directory of resource-policy YAML files; a broken set stops start-up. */
    dir: z.string().min(1).default('policies'),
    /** Reload on file changes; a bad edit keeps the previous set in force. */
    watch: z.boolean().default(true),
    /** Fraction of allowed decisions audited as policy.allowed; denials are always audited. */
    auditAllowSampleRate: z.number().min(0).max(1).default(0),
  }).prefault({}),
  audit: z.strictObject({
    /**
     * How often each instance runs the sealer (and relay) pass; passes also run right after this
     * instance's audited commits. Unset: 200 ms with DATABASE_URL (other instances commit too),
     * 5000 ms embedded (every commit is local, so the timer only retries a failed pass).
     */
    sealIntervalMs: z.number().int().positive().optional(),
    /** Events sealed per sealer transaction. */
    sealBatchSize: z.number().int().min(1).max(5_000).default(500),
    /** Events handed to the job queue per `add()`. */
    relayBatchSize: z.number().int().min(1).max(5_000).default(500),
    /** How long one instance's claim to relay lasts; another instance takes over after it expires (a crash). */
    relayLeaseMs: z.number().int().min(1_000).default(30_000),
  }).prefault({}),
  queue: z.strictObject({
    /** BullMQ queue of relayed security events (its dead-letter queue is `<name>-dlq`); no ':'. */
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default('security-events'),
    /** Deliveries per job, the first included; after the last failure the job is dead-lettered. */
    attempts: z.number().int().min(1).max(25).default(5),
    /** Wait before the first retry; each further retry waits twice as long. */
    backoffMs: z.number().int().positive().max(3_600_000).default(1_000),
    /** Jobs handled at once per consuming process. */
    concurrency: z.number().int().min(1).max(256).default(4),
    /** Completed jobs kept in Redis, newest first (a known id is not queued again). */
    keepCompleted: z.number().int().min(0).default(1_000),
    /** Finally failed jobs kept in Redis's failed set (their dead-letter copies are kept apart). */
    keepFailed: z.number().int().min(0).default(5_000),
    /** Dead letters kept (`<name>-dlq` in Redis, in memory when embedded); the oldest beyond this are dropped. */
    keepDeadLetters: z.number().int().min(1).default(10_000),
    /** In distributed mode, `serve` also runs the job handlers (normally only `portcullis worker` does). */
    consumeInServe: z.boolean().default(false),
  }).prefault({}),
  worker: z.strictObject({
    /** Where `portcullis worker` serves GET /metrics and /healthz (job outcomes, queue lag, process metrics). */
    metricsHost: z.string().min(1).default('127.0.0.1'),
    /** Port of that listener; 0 picks a free one (logged at start). */
    metricsPort: z.number().int().min(0).max(65535).default(9464),
  }).prefault({}),
  detection: z.strictObject({
    /** Length of a failure-statistics bucket: the resolution of every window a rule asks about. */
    bucketSeconds: seconds(60),
    /** Failure statistics older than this are pruned; rules cannot look further back. */
    retentionSeconds: seconds(2 * 24 * 3600),
    /** How often a process running the handlers prunes them. */
    pruneIntervalSeconds: seconds(300),
  }).prefault({}),
  rateLimit: z.strictObject({
    /** Authenticated requests per subject. */
    authenticated: limiterRule(1200, 60),
  }).prefault({}),
});

/** Validated, frozen configuration. */
export type Config = z.infer<typeof configSchema>;
/** What a config file or the environment may supply before defaults apply. */
export type ConfigInput = z.input<typeof configSchema>;
