import { watch as fsWatch } from 'node:fs';
import type { PolicySet } from './policy-types.js';

/** Starts watching a directory; calls `onChange` on any change in it and `onError` if watching fails. */
export type WatchDirectory = (dir: string, onChange: () => void, onError: (error: unknown) => void) => { close(): void };

/** What a policy store needs: where the policies live, how to load them, whom to tell. */
export interface PolicyStoreOptions {
  dir: string;
  /**
   * The set to serve until the first reload. The caller loads it itself, so a broken
   * policy directory fails startup instead of starting a server that denies everything.
   */
  initial: PolicySet;
  load: (dir: string) => Promise<PolicySet>;
  /** Told about every failed reload; the previous good set stays in service. */
  onError: (error: unknown) => void;
  onReload?: (policySet: PolicySet) => void;
  /** Quiet period after the last change before reloading; editors write a file in several steps. */
  debounceMs?: number;
  watchDirectory?: WatchDirectory;
}

/** Holds the policy set in service and swaps it atomically on a successful reload. */
export interface PolicyStore {
  /** The set in service; a check should read it once and use that set throughout. */
  current(): PolicySet;
  /** Loads the directory again; true when the new set is in service, false when the old one was kept. Calls run one at a time. */
  reload(): Promise<boolean>;
  /** Reloads (debounced) whenever the directory changes; idempotent. Never keeps the process alive. */
  watch(): void;
  /** Stops watching and cancels a pending reload. */
  close(): void;
}

const watchWithFs: WatchDirectory = (dir, onChange, onError) => {
  // persistent: false is fs.watch's unref: a watcher alone never keeps the process running.
  const watcher = fsWatch(dir, { persistent: false }, () => onChange());
  watcher.on('error', onError);
  return watcher;
};

/** Creates a store serving `initial` and able to reload it, by call or on file changes. */
export function createPolicyStore(options: PolicyStoreOptions): PolicyStore {
  const debounceMs = options.debounceMs ?? 250;
  const watchDirectory = options.watchDirectory ?? watchWithFs;
  let current = options.initial;
  // Reloads run one after another: two overlapping loads could otherwise finish out of
  // order and leave the older directory state in service.
  let queue: Promise<unknown> = Promise.resolve();
  let watcher: { close(): void } | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const reloadOnce = async (): Promise<boolean> => {
    let next: PolicySet;
    try {
      next = await options.load(options.dir);
    } catch (error) {
      options.onError(error);
      return false;
    }
    current = next;
    try {
      options.onReload?.(next);
    } catch (error) {
      // A failing listener must not turn a good reload into an unhandled rejection.
      options.onError(error);
    }
    return true;
  };

  const reload = (): Promise<boolean> => {
    const run = queue.then(reloadOnce);
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    current: () => current,
    reload,
    watch() {
      if (watcher !== undefined) return;
      try {
        watcher = watchDirectory(options.dir, () => {
          if (timer !== undefined) clearTimeout(timer);
          timer = setTimeout(() => {
            timer = undefined;
            // reload() rejects only when onError itself threw: nobody is left to tell.
            reload().catch(() => undefined);
          }, debounceMs);
          timer.unref();
        }, options.onError);
      } catch (error) {
        // A missing directory must not crash the server; it keeps serving the current set.
        options.onError(error);
      }
    },
    close() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      watcher?.close();
      watcher = undefined;
    },
  };
}
