import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { FastHistogram } from './fast-histogram.js';

/** Every metric Portcullis exports; one instance per app so tests do not share counters. */
export interface Metrics {
  readonly registry: Registry;
  /** Recorded on every request: a FastHistogram, whose children skip prom-client's per-call label hashing. */
  readonly httpDuration: FastHistogram<'method' | 'route' | 'status_code'>;
  readonly loginOutcomes: Counter<'outcome'>;
  readonly tokenFailures: Counter<'reason'>;
  readonly rateLimitBlocks: Counter<'limiter'>;
  readonly verifiedCache: Counter<'result'>;
  /** Counts one verified-token cache lookup; added up in plain numbers and moved into `verifiedCache` at each scrape (it runs on every authenticated request). */
  readonly countVerifiedCacheLookup: (hit: boolean) => void;
  readonly signingKeys: Gauge<'state'>;
  readonly policyReloads: Counter<'outcome'>;
  /** Operations answered in degraded mode because Redis was unavailable, by component. */
  readonly redisFallbacks: Counter<'component'>;
  /** 1 while a Redis connection is ready, else 0, by connection (command, subscriber); absent in embedded mode. */
  readonly redisUp: Gauge<'connection'>;
  /** Job deliveries by job name and outcome (succeeded, retrying, dead_lettered). */
  readonly jobsProcessed: Counter<'name' | 'outcome'>;
  /** Jobs moved to the dead-letter queue after their last attempt, by job name. */
  readonly jobsDeadLettered: Counter<'name'>;
  /** Time from enqueue to the first delivery. */
  readonly jobQueueLag: Histogram;
}

/**
 * Sampling interval of the event-loop delay histogram (nodejs_eventloop_lag_*). Node records the
 * gap between ticks of a timer at this interval, so a reading can never be below it: at prom-client's
 * default of 10 ms an idle loop reads 10 ms and any delay under 10 ms is invisible. 1 ms shows the
 * delay itself, for ~2% of a core while idle (measured), less under load, when the loop runs anyway.
 */
export const EVENT_LOOP_RESOLUTION_MS = 1;

/** Creates the metric set; `defaults` adds process and event-loop metrics (off in unit tests to save timers). */
export function createMetrics(options: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  const pendingCacheLookups = { hit: 0, miss: 0 };
  if (options.defaults !== false) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS });
  return {
    registry,
    httpDuration: new FastHistogram({
      name: 'portcullis_http_request_duration_seconds', help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status_code'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
    }),
    loginOutcomes: new Counter({ name: 'portcullis_login_total', help: 'Login attempts by outcome', labelNames: ['outcome'], registers: [registry] }),
    tokenFailures: new Counter({ name: 'portcullis_token_verification_failures_total', help: 'Refused access tokens by reason', labelNames: ['reason'], registers: [registry] }),
    rateLimitBlocks: new Counter({ name: 'portcullis_ratelimit_blocked_total', help: 'Requests refused by a rate limiter', labelNames: ['limiter'], registers: [registry] }),
    verifiedCache: new Counter({
      name: 'portcullis_verified_token_cache_total', help: 'Verified-token cache lookups', labelNames: ['result'], registers: [registry],
      collect() {
        for (const result of ['hit', 'miss'] as const) {
          if (pendingCacheLookups[result] === 0) continue;
          this.inc({ result }, pendingCacheLookups[result]);
          pendingCacheLookups[result] = 0;
        }
      },
    }),
    countVerifiedCacheLookup: (hit) => { pendingCacheLookups[hit ? 'hit' : 'miss'] += 1; },
    policyReloads: new Counter({ name: 'portcullis_policy_reloads_total', help: 'Policy reloads by outcome (a failed reload keeps the previous set)', labelNames: ['outcome'], registers: [registry] }),
    redisFallbacks: new Counter({
      name: 'portcullis_redis_fallback_total', help: 'Operations answered without Redis (insurance limiter, database revocation check, unpublished revocation)',
      labelNames: ['component'], registers: [registry],
    }),
    redisUp: new Gauge({ name: 'portcullis_redis_up', help: '1 while the Redis connection is ready, by connection', labelNames: ['connection'], registers: [registry] }),
    jobsProcessed: new Counter({ name: 'portcullis_jobs_processed_total', help: 'Job deliveries by job name and outcome', labelNames: ['name', 'outcome'], registers: [registry] }),
    jobsDeadLettered: new Counter({ name: 'portcullis_jobs_dead_lettered_total', help: 'Jobs dead-lettered after their last attempt', labelNames: ['name'], registers: [registry] }),
    jobQueueLag: new Histogram({
      name: 'portcullis_job_queue_lag_seconds', help: 'Time from enqueue to the first delivery of a job',
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300], registers: [registry],
    }),
    signingKeys: new Gauge({ name: 'portcullis_signing_keys', help: 'Keys in the ring by state', labelNames: ['state'], registers: [registry] }),
  };
}
