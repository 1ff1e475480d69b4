import { createHash } from 'node:crypto';
import type { StoredAuditEvent } from '../store/audit-store.js';

/** Deterministic JSON: object keys sorted, no whitespace (the subset of RFC 8785 our data uses). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** SHA-256 over the previous hash and the event's canonical form: editing, dropping or reordering a row breaks the chain. */
export function hashAuditEvent(event: Omit<StoredAuditEvent, 'hash' | 'seq'>): string {
  const body = canonicalJson({
    id: event.id,
    time: event.time.toISOString(),
    type: event.type,
    actor: event.actor,
    subject: event.subject,
    ip: event.ip,
    userAgent: event.userAgent,
    outcome: event.outcome,
    requestId: event.requestId,
    data: event.data,
  });
  return createHash('sha256').update(event.prevHash).update('\n').update(body).digest('hex');
}
