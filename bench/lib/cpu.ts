// Per-core CPU accounting from /proc/stat, to show how much of each core other processes took.
import { readFileSync } from 'node:fs';

/** Busy and total jiffies per CPU, indexed by CPU number. */
export type CpuTimes = { busy: number; total: number }[];

/** Reads /proc/stat; busy counts user, nice, system, irq, softirq and steal (time the core was not ours to use). */
export function readCpuTimes(): CpuTimes {
  const times: CpuTimes = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = match[2]!.trim().split(/\s+/).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    times[Number(match[1])] = { busy, total: busy + idle + iowait };
  }
  return times;
}

/** Busy percentage of each CPU between two readings. */
export function busyPercent(before: CpuTimes, after: CpuTimes): number[] {
  return after.map((a, i) => {
    const b = before[i];
    if (!b || a.total === b.total) return 0;
    return ((a.busy - b.busy) / (a.total - b.total)) * 100;
  });
}

/** Samples every CPU's busy percentage over `ms` milliseconds. */
export async function sampleBusy(ms: number): Promise<number[]> {
  const before = readCpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return busyPercent(before, readCpuTimes());
}

/** Waits until every CPU is below `maxBusyPercent` over a one-second sample, for at most `maxWaitSeconds`. */
export async function waitForQuiet(maxBusyPercent: number, maxWaitSeconds: number): Promise<{ quiet: boolean; waitedSeconds: number; busy: number[] }> {
  const started = performance.now();
  let busy = await sampleBusy(1000);
  while (busy.some((b) => b > maxBusyPercent) && performance.now() - started < maxWaitSeconds * 1000) {
    process.stderr.write(`bench: waiting for a quiet machine (CPU busy: ${busy.map((b) => `${Math.round(b)}%`).join(', ')})\n`);
    busy = await sampleBusy(1000);
  }
  return { quiet: busy.every((b) => b <= maxBusyPercent), waitedSeconds: (performance.now() - started) / 1000, busy };
}
