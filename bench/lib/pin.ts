// Pins the runner (the load generator) to one core by re-executing itself under taskset.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Env flag set on the re-executed runner so it does not re-exec again. */
export const PINNED_FLAG = 'PORTCULLIS_BENCH_PINNED';

/** The CPUs this process may run on, as the kernel lists them (e.g. "1" or "0-1"). */
export function allowedCpus(): string {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('Cpus_allowed_list:'));
    return line?.split(':')[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** True when this process is the re-executed, pinned runner. */
export function isPinned(): boolean {
  return process.env[PINNED_FLAG] === '1';
}

/** Re-runs this script under `taskset -c <core>` with the same node flags; resolves with its exit code. */
export async function reexecPinned(core: number): Promise<number> {
  const args = ['-c', String(core), process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const child = spawn('taskset', args, { stdio: 'inherit', env: { ...process.env, [PINNED_FLAG]: '1' } });
  // The pinned runner owns the server children; forward stop signals so it can clean up.
  const forward = (signal: NodeJS.Signals) => () => { child.kill(signal); };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward(signal));
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.on('error', (error) => {
      process.stderr.write(`bench: cannot run taskset: ${error.message}\n`);
      resolve(1);
    });
  });
}
