import { createHash } from 'node:crypto';
import type { AuditEventRecord, ChainLink } from '../store/audit-store.js';

/** The hash version the sealer writes: it covers the chain position as well as the content and the link. */
export const CURRENT_HASH_VERSION = 2;

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

/**
 * SHA-256 over the previous hash and the event's canonical form, so editing, dropping or
 * reordering a row breaks the chain. Version 2 also covers the chain position and the version
 * itself; version 1 is how rows were hashed before the sealer (migration 0001) and is only ever
 * recomputed to verify them. An unknown version yields '' (matches no stored hash).
 */
export function hashAuditEvent(event: AuditEventRecord & Omit<ChainLink, 'hash'>): string {
  const content = {
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
  };
  let body: string;
  if (event.hashVersion === 1) body = canonicalJson(content);
  else if (event.hashVersion === 2) body = canonicalJson({ ...content, chainSeq: event.chainSeq, hashVersion: 2 });
  else return '';
  return createHash('sha256').update(event.prevHash).update('\n').update(body).digest('hex');
}
