import type { AuditEventRecord } from '../store/audit-store.js';

/** An audit event as it leaves the service (API.md "Audit event"): JSON-safe, empty fields omitted. */
export interface AuditEventView {
  id: string;
  time: string;
  type: string;
  actor?: string;
  subject?: string;
  ip?: string;
  userAgent?: string;
  outcome: string;
  requestId?: string;
  data: Record<string, unknown>;
}

/** Maps a stored event to its public view; chain fields stay internal. */
export function auditEventView(event: AuditEventRecord): AuditEventView {
  return {
    id: event.id,
    time: event.time.toISOString(),
    type: event.type,
    ...(event.actor !== null && { actor: event.actor }),
    ...(event.subject !== null && { subject: event.subject }),
    ...(event.ip !== null && { ip: event.ip }),
    ...(event.userAgent !== null && { userAgent: event.userAgent }),
    outcome: event.outcome,
    ...(event.requestId !== null && { requestId: event.requestId }),
    data: event.data,
  };
}
