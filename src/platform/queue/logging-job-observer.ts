import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import type { JobObserver } from './job-observer.js';

/**
 * The production observer: every delivery counted by name and outcome, first-delivery lag in a
 * histogram, retries logged as warnings and dead letters as errors (id, name, attempt and the
 * safe error description: job data is never logged).
 */
export function createLoggingJobObserver(metrics: Metrics, logger: Logger): JobObserver {
  return {
    delivered(report) {
      metrics.jobsProcessed.inc({ name: report.name, outcome: report.outcome });
      if (report.queuedMs !== undefined) metrics.jobQueueLag.observe(report.queuedMs / 1000);
      const fields = { jobId: report.id, job: report.name, attempt: report.attempt, error: report.error };
      if (report.outcome === 'retrying') logger.warn(fields, 'job failed; it will be retried');
      if (report.outcome === 'dead_lettered') {
        metrics.jobsDeadLettered.inc({ name: report.name });
        logger.error(fields, 'job failed its last attempt and was dead-lettered');
      }
    },
    error(error, context) {
      logger.error({ err: error, context }, 'job queue error');
    },
  };
}
