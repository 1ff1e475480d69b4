import type { DeliveredJob, JobHandler } from './job-queue.js';

/**
 * One handler for a whole queue: routes each job to the handler registered under its name.
 * Jobs with no handler are acknowledged without work (the relay forwards every audit event
 * type; most have no consumer yet), and reported through `onUnhandled`. Names are looked up in
 * a Map, so a job named `constructor` or `__proto__` reaches nothing it should not.
 */
export function createJobDispatcher(handlers: Readonly<Record<string, JobHandler>>, onUnhandled: (job: DeliveredJob) => void = () => {}): JobHandler {
  const table = new Map(Object.entries(handlers));
  return async function dispatchJob(job) {
    const handler = table.get(job.name);
    if (!handler) {
      onUnhandled(job);
      return;
    }
    await handler(job);
  };
}
