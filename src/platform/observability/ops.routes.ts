import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

/** A dependency /readyz checks. */
export interface ReadinessCheck { name: string; check: () => Promise<void> }

/** What the operations routes need. */
export interface OpsRoutesDeps { metrics: Metrics; readiness: ReadinessCheck[] }

/** GET /healthz (process alive), /readyz (dependencies answer), /metrics (Prometheus text). */
export async function opsRoutes(app: FastifyInstance, deps: OpsRoutesDeps): Promise<void> {
  app.get('/healthz', { schema: { tags: ['operations'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { tags: ['operations'], summary: 'Readiness: every dependency answers' } }, async (request, reply) => {
    const results = await Promise.all(deps.readiness.map(async ({ name, check }) => {
      try {
        await check();
        return { name, ok: true };
      } catch (error) {
        request.log.warn({ dependency: name, err: error }, 'readiness check failed');
        return { name, ok: false };
      }
    }));
    const failed = results.filter((r) => !r.ok).map((r) => r.name);
    const checks = Object.fromEntries(results.map((r) => [r.name, r.ok ? 'ok' : 'failed']));
    if (failed.length > 0) {
      return reply.code(503).header('retry-after', '5').send({ status: 'unavailable', failed, checks });
    }
    return { status: 'ready', checks };
  });

  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
