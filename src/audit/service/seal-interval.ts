/** The seal timer's period with a shared PostgreSQL: other instances' commits are sealed within this. */
export const SHARED_DATABASE_SEAL_INTERVAL_MS = 200;
/**
 * The period in embedded mode. Every commit there is this process's own and nudges the sealer at
 * once, so the timer only retries a failed pass; at 200 ms its two queries on PGlite kept an idle
 * server busy (~1.5% of a core of its ~6.5%).
 */
export const EMBEDDED_SEAL_INTERVAL_MS = 5_000;

/** The seal timer's period: the configured one, else the default for the deployment's database. */
export function sealIntervalMs(configured: number | undefined, sharedDatabase: boolean): number {
  return configured ?? (sharedDatabase ? SHARED_DATABASE_SEAL_INTERVAL_MS : EMBEDDED_SEAL_INTERVAL_MS);
}
