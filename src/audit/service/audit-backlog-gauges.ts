import { Gauge, type Registry } from 'prom-client';
import type { AuditRelayStore } from '../store/audit-relay-store.js';
import type { AuditStore } from '../store/audit-store.js';

/** What the backlog gauges read, at each scrape. */
export interface AuditBacklogDeps {
  audit: Pick<AuditStore, 'countUnsealed' | 'chainHead'>;
  relay: Pick<AuditRelayStore, 'position'>;
  /** A failed read (database down): the gauge shows NaN for that scrape and the error goes here. */
  onError: (error: unknown) => void;
}

/**
 * Registers two gauges an operator alerts on: events committed but not yet chained (the sealer is
 * behind or not running anywhere) and events chained but not yet handed to the job queue (the
 * relay is behind, or the queue is down). Both are read from the database when scraped, so they
 * are the same on every instance; a read that fails reports NaN ("unknown"), never a stale value.
 */
export function registerAuditBacklogGauges(registry: Registry, deps: AuditBacklogDeps): void {
  new Gauge({
    name: 'portcullis_audit_unsealed_events', help: 'Audit events committed but not yet given a chain position (sealer backlog)', registers: [registry],
    async collect() {
      try {
        this.set(await deps.audit.countUnsealed());
      } catch (error) {
        deps.onError(error);
        this.set(Number.NaN);
      }
    },
  });
  new Gauge({
    name: 'portcullis_audit_unrelayed_events', help: 'Sealed audit events not yet handed to the job queue (relay backlog)', registers: [registry],
    async collect() {
      try {
        const [head, position] = await Promise.all([deps.audit.chainHead(), deps.relay.position()]);
        this.set(head ? Math.max(0, Number(BigInt(head.chainSeq) - BigInt(position))) : 0);
      } catch (error) {
        deps.onError(error);
        this.set(Number.NaN);
      }
    },
  });
}
