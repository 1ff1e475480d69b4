// Child-process lifecycle for the bench: pinned spawning, readiness, and guaranteed cleanup.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Repository root: every child runs from here so `--import tsx` and `src/` resolve. */
export const REPO_ROOT = new URL('../../', import.meta.url).pathname;

/** A child the bench started, with the tail of its output kept for error messages. */
export interface Managed {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or signal name) once the child has exited. */
  readonly exited: Promise<number | string>;
  /** Full stdout so far (kept for short-lived scripts that print JSON). */
  stdout(): string;
  /** The last lines of stdout and stderr, for diagnostics. */
  tail(): string;
  /** Throws, with the child's last output, if it has exited. */
  assertRunning(): void;
}

const live = new Set<Managed>();
const TAIL_CHARS = 4000;

/** Builds the argv that runs a TypeScript file with node + tsx pinned to one CPU core (or a taskset CPU list such as "0,1"). */
export function pinnedNode(core: number | string, script: string, args: readonly string[] = []): { command: string; args: string[] } {
  return { command: 'taskset', args: ['-c', String(core), process.execPath, '--import', 'tsx', script, ...args] };
}

/** Throws a clear error when util-linux `taskset` is not installed. */
export function assertTaskset(): void {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error('taskset not found: install util-linux (the bench pins processes to cores)');
  }
}

/** Spawns a child from the repo root and tracks it until it exits. */
export function startProcess(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv): Managed {
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name}: spawn failed`);
  let out = '';
  let tailText = '';
  const keep = (chunk: Buffer, isStdout: boolean): void => {
    const text = chunk.toString('utf8');
    if (isStdout) out += text;
    tailText = (tailText + text).slice(-TAIL_CHARS);
  };
  child.stdout.on('data', (c: Buffer) => keep(c, true));
  child.stderr.on('data', (c: Buffer) => keep(c, false));
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.on('error', (error) => resolve(`spawn error: ${error.message}`));
  });
  let exitStatus: number | string | undefined;
  const managed: Managed = {
    name, child, pid: child.pid, exited, stdout: () => out, tail: () => tailText,
    assertRunning: () => {
      if (exitStatus !== undefined) throw new Error(`${name} exited (${String(exitStatus)})${tailText ? `\n${tailText}` : ''}`);
    },
  };
  live.add(managed);
  void exited.then((status) => {
    exitStatus = status;
    live.delete(managed);
  });
  return managed;
}

/** Asks a child to stop (SIGTERM), then kills it (SIGKILL) if it has not exited within `graceMs`. */
export async function stopProcess(managed: Managed, graceMs = 3000): Promise<void> {
  if (!live.has(managed)) return;
  managed.child.kill('SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
  if (await Promise.race([managed.exited, timer]) === 'timeout') {
    managed.child.kill('SIGKILL');
    await managed.exited;
  }
}

/** Stops every child still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((m) => stopProcess(m)));
}

/** Synchronous last resort for `process.on('exit')`: SIGKILL every child still running. */
export function killAllNow(): void {
  for (const managed of live) managed.child.kill('SIGKILL');
}

/** Installs handlers so children die with the runner on exit, signals and crashes. */
export function installCleanupHandlers(): void {
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`bench: ${signal}, stopping children\n`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}

/** Runs a script to completion and returns its stdout; rejects on a non-zero exit or a timeout. */
export async function runToCompletion(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  const managed = startProcess(name, command, args, env);
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
  const outcome = await Promise.race([managed.exited, timer]);
  if (outcome === 'timeout') {
    await stopProcess(managed, 500);
    throw new Error(`${name} timed out after ${timeoutMs} ms\n${managed.tail()}`);
  }
  if (outcome !== 0) throw new Error(`${name} exited with ${String(outcome)}\n${managed.tail()}`);
  return managed.stdout();
}

/** Finds a free TCP port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Polls `url` until it answers 200; fails early if the child exits, or after `timeoutMs`. */
export async function waitForHttp(url: string, managed: Managed, timeoutMs = 30_000, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void managed.exited.then(() => { exited = true; });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${managed.name} exited before becoming ready\n${managed.tail()}`);
    try {
      const response = await fetch(url, { headers, signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${managed.name} not ready at ${url} after ${timeoutMs} ms\n${managed.tail()}`);
}

const CLOCK_TICKS = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Environment for a server under test: the runner's, minus anything that would change the server's mode. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('PORTCULLIS_') || ['DATABASE_URL', 'REDIS_URL', 'NODE_ENV', 'PORT'].includes(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** Starts a server pinned to `core`, waits until `readyUrl` answers 200, runs `body`, and always stops it. */
export async function withServer<T>(
  server: { name: string; core: number | string; script: string; args?: string[]; env: NodeJS.ProcessEnv; readyUrl: string; readyHeaders?: Record<string, string> },
  body: (managed: Managed) => Promise<T>,
): Promise<T> {
  const { command, args } = pinnedNode(server.core, server.script, server.args);
  const managed = startProcess(server.name, command, args, server.env);
  try {
    await waitForHttp(server.readyUrl, managed, 60_000, server.readyHeaders);
    return await body(managed);
  } finally {
    await stopProcess(managed);
  }
}

/** Resident set size of a process from /proc/<pid>/status, in bytes. */
export function processRssBytes(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    const kib = Number(line?.split(/\s+/)[1]);
    return Number.isFinite(kib) ? kib * 1024 : undefined;
  } catch {
    return undefined;
  }
}
