import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Options as Argon2Options } from '@node-rs/argon2';

/** argon2 off the event loop, on worker threads that yield the CPU to it. */
export interface Argon2WorkerPool {
  hash(password: string, options: Argon2Options): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** Stops the threads; jobs still queued or running reject. */
  close(): Promise<void>;
}

/** Pool settings. */
export interface Argon2WorkerPoolOptions {
  /** Threads, each running one hash at a time; more jobs queue in order. */
  size: number;
  /**
   * Nice value of the threads (Linux: per thread; 0-19). A login burst otherwise shares each core
   * evenly between argon2 and the event loop, so every request waits behind a hash's time slice
   * (event-loop p99 ~21 ms on one core under 32 concurrent logins). At nice 10 the scheduler runs
   * the loop first whenever it has work, and hashes still get ~10% of a core the loop saturates.
   */
  nice: number;
}

// CommonJS, evaluated: no file to locate next to the compiled or the tsx-run module.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const os = require('node:os');
try { os.setPriority(0, workerData.nice); } catch { /* not permitted here: run at normal priority */ }
const argon2 = require(workerData.argon2Path);
parentPort.on('message', (job) => {
  try {
    const result = job.op === 'hash' ? argon2.hashSync(job.password, job.options) : argon2.verifySync(job.passwordHash, job.password);
    parentPort.postMessage({ id: job.id, result });
  } catch (error) {
    parentPort.postMessage({ id: job.id, error: error instanceof Error ? error.message : String(error) });
  }
});
`;

type Job = ({ op: 'hash'; password: string; options: Argon2Options } | { op: 'verify'; passwordHash: string; password: string }) & { id: number };
interface Pending { job: Job; resolve: (value: string | boolean) => void; reject: (error: Error) => void }
interface Slot { worker: Worker; running: Pending | undefined }

/** Starts `size` argon2 threads at the given nice value. */
export function createArgon2WorkerPool(options: Argon2WorkerPoolOptions): Argon2WorkerPool {
  const argon2Path = createRequire(import.meta.url).resolve('@node-rs/argon2');
  const queue: Pending[] = [];
  const slots: Slot[] = [];
  let nextId = 1;
  let closed = false;

  function spawn(): Slot {
    // No inherited execArgv: the worker is plain CommonJS and needs no loader (tsx would add ~MiBs per thread).
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { argon2Path, nice: options.nice } });
    // Idle threads must not keep a process alive that has nothing else to do.
    worker.unref();
    const slot: Slot = { worker, running: undefined };
    worker.on('message', (message: { id: number; result?: string | boolean; error?: string }) => {
      const done = slot.running;
      if (!done || done.job.id !== message.id) return;
      slot.running = undefined;
      if (message.error !== undefined) done.reject(new Error(`argon2: ${message.error}`));
      else done.resolve(message.result!);
      pump();
    });
    // A thread that dies (out of memory, a native fault) fails its job and is replaced.
    const replace = (error: Error) => {
      const index = slots.indexOf(slot);
      if (index === -1) return;
      slots.splice(index, 1);
      slot.running?.reject(error);
      slot.running = undefined;
      if (!closed) {
        slots.push(spawn());
        pump();
      }
    };
    worker.on('error', replace);
    worker.on('exit', (code) => replace(new Error(`argon2 worker exited with code ${code}`)));
    return slot;
  }

  function pump(): void {
    for (const slot of slots) {
      if (slot.running || queue.length === 0) continue;
      const next = queue.shift()!;
      slot.running = next;
      slot.worker.ref();
      slot.worker.postMessage(next.job);
    }
    // Only threads with a job in hand keep the process alive.
    for (const slot of slots) if (!slot.running) slot.worker.unref();
  }

  function submit<T extends string | boolean>(job: Job): Promise<T> {
    if (closed) return Promise.reject(new Error('the argon2 worker pool is closed'));
    return new Promise<T>((resolve, reject) => {
      queue.push({ job, resolve: resolve as (value: string | boolean) => void, reject });
      pump();
    });
  }

  for (let i = 0; i < Math.max(1, options.size); i++) slots.push(spawn());

  return {
    hash: (password, hashOptions) => submit<string>({ id: nextId++, op: 'hash', password, options: hashOptions }),
    verify: (passwordHash, password) => submit<boolean>({ id: nextId++, op: 'verify', passwordHash, password }),
    async close() {
      closed = true;
      const error = new Error('the argon2 worker pool is closed');
      for (const pending of queue.splice(0)) pending.reject(error);
      await Promise.all(slots.splice(0).map(async (slot) => {
        slot.running?.reject(error);
        slot.running = undefined;
        await slot.worker.terminate();
      }));
    },
  };
}
