// Describes the machine and software versions for the report.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { allowedCpus } from './pin.js';
import { REPO_ROOT } from './processes.js';
import type { MachineInfo } from './types.js';

const PACKAGES = ['fastify', 'express', 'helmet', 'express-rate-limit', 'jsonwebtoken', 'jose', 'autocannon', 'prom-client', '@electric-sql/pglite'];

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    return line?.split(':')[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  } catch {
    return cpus()[0]?.model ?? 'unknown';
  }
}

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(`${REPO_ROOT}node_modules/${name}/package.json`, 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'missing';
  }
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** HEAD, plus a mark when src/ has uncommitted changes (the server runs from the working tree). */
function gitCommit(): string {
  const head = git(['rev-parse', '--short', 'HEAD']);
  if (!head) return 'unknown';
  const dirty = git(['status', '--porcelain', '--', 'src']);
  return dirty ? `${head} + uncommitted changes in src/` : head;
}

/** Collects node version, CPU model, core count, kernel, memory, versions of the benchmarked packages. */
export function machineInfo(now: Date): MachineInfo {
  return {
    date: now.toISOString(),
    node: process.version,
    cpuModel: cpuModel(),
    cores: cpus().length,
    kernel: release(),
    memTotalBytes: totalmem(),
    runnerCpus: allowedCpus(),
    gitCommit: gitCommit(),
    packages: Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p)])),
  };
}
