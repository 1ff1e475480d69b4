const MAX_MESSAGE_LENGTH = 500;

/**
 * The part of a handler's error that may be stored next to a dead-lettered job: its name and a
 * truncated message. Never the stack, the cause, or driver fields (PostgreSQL drivers put bound
 * values, which can be emails or hashes, in `detail`/`parameters`).
 */
export function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const text = `${error.name}: ${error.message}`;
    return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
  }
  return 'non-error value thrown';
}
