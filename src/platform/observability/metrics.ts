import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric Portcullis exports; one instance per app so tests do not share counters. */
export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly loginOutcomes: Counter<'outcome'>;
  readonly tokenFailures: Counter<'reason'>;
  readonly rateLimitBlocks: Counter<'limiter'>;
  readonly verifiedCache: Counter<'result'>;
  readonly signingKeys: Gauge<'state'>;
  readonly policyReloads: Counter<'outcome'>;
}

/** Creates the metric set; `defaults` adds process and event-loop metrics (off in unit tests to save timers). */
export function createMetrics(options: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaults !== false) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'portcullis_http_request_duration_seconds', help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status_code'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
    }),
    loginOutcomes: new Counter({ name: 'portcullis_login_total', help: 'Login attempts by outcome', labelNames: ['outcome'], registers: [registry] }),
    tokenFailures: new Counter({ name: 'portcullis_token_verification_failures_total', help: 'Refused access tokens by reason', labelNames: ['reason'], registers: [registry] }),
    rateLimitBlocks: new Counter({ name: 'portcullis_ratelimit_blocked_total', help: 'Requests refused by a rate limiter', labelNames: ['limiter'], registers: [registry] }),
    verifiedCache: new Counter({ name: 'portcullis_verified_token_cache_total', help: 'Verified-token cache lookups', labelNames: ['result'], registers: [registry] }),
    policyReloads: new Counter({ name: 'portcullis_policy_reloads_total', help: 'Policy reloads by outcome (a failed reload keeps the previous set)', labelNames: ['outcome'], registers: [registry] }),
    signingKeys: new Gauge({ name: 'portcullis_signing_keys', help: 'Keys in the ring by state', labelNames: ['state'], registers: [registry] }),
  };
}
