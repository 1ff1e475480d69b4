import type { JobQueue } from '../../platform/queue/job-queue.js';
import type { AuditRelayStore } from '../store/audit-relay-store.js';
import type { AuditStore } from '../store/audit-store.js';
import { auditEventView } from './audit-event-view.js';

/** Dependencies of relayAuditEvents. */
export interface RelayAuditEventsDeps {
  relay: AuditRelayStore;
  audit: AuditStore;
  queue: JobQueue;
  /** Events handed to the queue per `add()`. */
  batchSize: number;
  /** Names this relay in the lease; unique per instance. */
  owner: string;
  /** How long the lease lasts without renewal; it is renewed before every batch. */
  leaseMs: number;
}

/** What one relay run did. */
export interface RelayOutcome {
  /** Events handed to the queue by this run and recorded as relayed. */
  relayed: number;
  /** False when another relay held the lease (or took it over mid-run): that one relays instead. */
  locked: boolean;
}

/**
 * Hands sealed audit events to the job queue in chain order, after the persisted relay position,
 * as jobs `{id: event id, name: event type, data: event view}`, one relay at a time (a lease on
 * the position row). Each batch is added to the queue before the position moves past it, so a
 * crash or a failed update in between re-sends the batch (at least once; a duplicate carries the
 * same job id) and a failed `add` leaves the position where it was: no event is ever skipped. The
 * position only moves while this relay still holds the lease and from the value it read, so a
 * relay that lost its lease mid-batch (it outlived `leaseMs`) cannot move it back or past a gap.
 * No transaction is open during `add`: handlers may use the database while the queue waits.
 */
export function createRelayAuditEvents(deps: RelayAuditEventsDeps) {
  return async function relayAuditEvents(): Promise<RelayOutcome> {
    if (!(await deps.relay.hasPending())) return { relayed: 0, locked: true };
    let relayed = 0;
    try {
      for (;;) {
        const from = await deps.relay.claim(deps.owner, deps.leaseMs);
        if (from === null) return { relayed, locked: false };
        const events = await deps.audit.readChain(from, deps.batchSize);
        if (events.length === 0) return { relayed, locked: true };
        await deps.queue.add(events.map((event) => ({ id: event.id, name: event.type, data: auditEventView(event) })));
        if (!(await deps.relay.advance(deps.owner, from, events[events.length - 1]!.chainSeq))) return { relayed, locked: false };
        relayed += events.length;
        if (events.length < deps.batchSize) return { relayed, locked: true };
      }
    } finally {
      // Best effort: an unreleased lease only delays the next relay until it expires.
      await deps.relay.release(deps.owner).catch(() => undefined);
    }
  };
}
