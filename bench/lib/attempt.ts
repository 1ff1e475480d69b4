// Lets one failing step be recorded without losing the rest of the bench.

/** Runs `fn`; on failure records "label: message" in `errors` and resolves undefined. */
export async function attempt<T>(label: string, errors: string[], fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    errors.push(`${label}: ${message}`);
    process.stderr.write(`bench: ${label} FAILED: ${message}\n`);
    return undefined;
  }
}
