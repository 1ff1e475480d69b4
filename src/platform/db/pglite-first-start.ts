import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

// CommonJS, evaluated, no loader: PGlite's CJS build creates the cluster and closes it.
const INIT_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglitePath);
PGlite.create(workerData.dir, { startParams: workerData.startParams })
  .then((pglite) => pglite.close())
  .then(() => parentPort.postMessage({ ok: true }), (error) => parentPort.postMessage({ ok: false, error: String((error && error.stack) || error) }));
`;

/** True when `dir` holds no PostgreSQL cluster yet (PGlite would run initdb on open). */
export function needsEmbeddedInit(dir: string): boolean {
  return !existsSync(join(dir, 'PG_VERSION'));
}

/**
 * Creates the embedded cluster in `dir` on a worker thread that then exits. initdb grows PGlite's
 * WebAssembly memory to ~600 MiB, and a WebAssembly memory never shrinks: opened in the serving
 * thread, a first start would idle near 1 GiB RSS until some later full GC. The worker's heap
 * goes with the worker, so the server then opens the ready cluster at its normal ~140 MiB.
 */
export async function initEmbeddedCluster(dir: string, startParams: readonly string[]): Promise<void> {
  const pglitePath = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const worker = new Worker(INIT_SOURCE, { eval: true, execArgv: [], workerData: { pglitePath, dir, startParams: [...startParams] } });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const outcome = await new Promise<{ ok: boolean; error?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    void exited.then((code) => reject(new Error(`embedded database initialisation stopped (exit ${code})`)));
  });
  await worker.terminate();
  await exited;
  if (!outcome.ok) throw new Error(`embedded database initialisation failed: ${outcome.error ?? 'unknown error'}`);
}
