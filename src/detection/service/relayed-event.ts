import { z } from 'zod';

/**
 * The part of a relayed audit event (the relay's `auditEventView`) that failure statistics read.
 * Other fields are ignored; empty ones are absent in the view, so they are optional here.
 */
const relayedEventSchema = z.object({
  time: z.union([z.iso.datetime({ offset: true }), z.date()]).transform((value) => new Date(value)),
  actor: z.string().min(1).max(256).nullish(),
  ip: z.string().min(1).max(64).nullish(),
});

/** A relayed event as failure statistics need it. */
export type RelayedEvent = z.output<typeof relayedEventSchema>;

/** Reads a job's data as a relayed event; throws naming the bad fields (never their values). */
export function parseRelayedEvent(data: unknown): RelayedEvent {
  const parsed = relayedEventSchema.safeParse(data);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))].join(', ');
    throw new Error(`relayed event is malformed: ${fields}`);
  }
  return parsed.data;
}
