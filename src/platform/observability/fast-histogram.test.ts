import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from './fast-histogram.js';

const CONFIG = {
  name: 'demo_request_duration_seconds', help: 'Request duration by route and status',
  labelNames: ['method', 'route', 'status_code'] as const, buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
};

// Values on, below, between and past the bounds; label values a scrape must escape.
const OBSERVATIONS: Array<[Record<'method' | 'route' | 'status_code', string>, number]> = [
  [{ method: 'GET', route: '/v1/auth/whoami', status_code: '200' }, 0],
  [{ method: 'GET', route: '/v1/auth/whoami', status_code: '200' }, 0.0005],
  [{ method: 'GET', route: '/v1/auth/whoami', status_code: '200' }, 0.00050001],
  [{ method: 'GET', route: '/v1/auth/whoami', status_code: '200' }, 0.0173],
  [{ method: 'GET', route: '/v1/auth/whoami', status_code: '200' }, 2.5],
  [{ method: 'GET', route: '/v1/auth/whoami', status_code: '200' }, 9.75],
  [{ method: 'POST', route: '/v1/auth/login', status_code: '401' }, 0.31],
  [{ method: 'GET', route: 'odd "route"\\with\nnewline', status_code: '404' }, 0.002],
];

async function exposition(record: (registry: Registry) => (labels: Record<string, string>, value: number) => void): Promise<string> {
  const registry = new Registry();
  const observe = record(registry);
  for (const [labels, value] of OBSERVATIONS) observe(labels, value);
  return registry.metrics();
}

describe('FastHistogram', () => {
  it('exposes exactly what prom-client\'s Histogram exposes for the same observations', async () => {
    const expected = await exposition((registry) => {
      const h = new Histogram({ ...CONFIG, labelNames: [...CONFIG.labelNames], buckets: [...CONFIG.buckets], registers: [registry] });
      return (labels, value) => h.labels(labels).observe(value);
    });
    const actual = await exposition((registry) => {
      const h = new FastHistogram({ ...CONFIG, registers: [registry] });
      return (labels, value) => h.labels(labels as Record<'method' | 'route' | 'status_code', string>).observe(value);
    });
    assert.match(expected, /demo_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/v1\/auth\/whoami",status_code="200"\} 6/);
    assert.equal(actual, expected);
  });

  it('keeps counting into a child obtained once (the request path keeps its children)', async () => {
    const registry = new Registry();
    const h = new FastHistogram({ ...CONFIG, registers: [registry] });
    const child = h.labels({ method: 'GET', route: '/x', status_code: '200' });
    for (let i = 0; i < 1000; i++) child.observe(0.0007);
    h.labels({ method: 'GET', route: '/x', status_code: '200' }).observe(0.7);
    const text = await registry.metrics();
    assert.match(text, /_bucket\{le="0.001",method="GET",route="\/x",status_code="200"\} 1000\n/);
    assert.match(text, /_count\{method="GET",route="\/x",status_code="200"\} 1001\n/);
  });

  it('refuses undeclared or missing labels and values that are not finite numbers', () => {
    const h = new FastHistogram({ ...CONFIG, registers: [] });
    assert.throws(() => h.labels({ method: 'GET', route: '/x', status_code: '200', tenant: 'a' } as never), /label "tenant" is not declared/);
    assert.throws(() => h.labels({ method: 'GET', route: '/x' } as never), /label "status_code" is missing/);
    const child = h.labels({ method: 'GET', route: '/x', status_code: '200' });
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => child.observe(bad), /not a finite number/);
  });

  it('reset forgets every series', async () => {
    const registry = new Registry();
    const h = new FastHistogram({ ...CONFIG, registers: [registry] });
    h.labels({ method: 'GET', route: '/x', status_code: '200' }).observe(0.1);
    h.reset();
    assert.doesNotMatch(await registry.metrics(), /_count/);
  });
});
