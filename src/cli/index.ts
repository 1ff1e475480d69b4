import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { buildApp } from '../app.js';
import { ConfigError, loadConfig } from '../platform/config/load.js';
import { formatPolicyTestReport, loadPolicies, loadPolicyTestSuites, PolicyLoadError, runPolicyTests } from '../policy/index.js';
import { resolveMasterKey } from '../platform/config/master-key.js';
import type { Config } from '../platform/config/schema.js';
import { migrateToLatest, openDatabase } from '../platform/db/database.js';
import { loggerOptions } from '../platform/observability/logger.js';
import { createRegistry, type Registry } from '../registry.js';

/** The process surface the CLI needs; main.ts passes the real one. */
export interface CliProcess {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  onSignal: (signal: 'SIGTERM' | 'SIGINT', handler: () => void) => void;
  exit: (code: number) => void;
}

const USAGE = `usage: portcullis <command> [--config file.yaml]
  serve                 run the HTTP server (default)
  migrate               apply database migrations and exit
  keys rotate [--now]   add a signing key (published now, signs after tokens.keyActivationDelaySeconds; --now signs at once)
  audit verify          check the audit hash chain; exit 1 when it is broken
  policy test [dir]     run the YAML policy tests in <dir>/tests against the policies in <dir> (default policies/)
In embedded mode (no DATABASE_URL) stop the server before running other commands: PGlite allows one process.`;

function readFileOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function masterKey(config: Readonly<Config>, log: pino.Logger): Buffer {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const resolved = resolveMasterKey(
    { configured: config.masterKey, production: config.nodeEnv === 'production', dataDir: config.dataDir },
    { readFile: readFileOrUndefined, writeFileExclusive: (path, content, mode) => writeFileSync(path, content, { mode, flag: 'wx' }) },
  );
  if (resolved.warning) log.warn(resolved.warning);
  return resolved.key;
}

async function serve(config: Readonly<Config>, proc: CliProcess, log: pino.Logger): Promise<void> {
  const registry = await createRegistry(config, { masterKey: masterKey(config, log), logger: log });
  await registry.start();
  const app = await buildApp(registry);
  await app.listen({ host: config.host, port: config.port });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down: draining in-flight requests');
    const force = setTimeout(() => {
      log.error('shutdown grace period exceeded; exiting');
      proc.exit(1);
    }, config.http.shutdownGraceMs);
    force.unref();
    // app.close waits for in-flight requests; the database closes only after them, so no write is lost.
    app.close()
      .then(() => registry.close())
      .then(() => { log.info('shutdown complete'); proc.exit(0); })
      .catch((error: unknown) => { log.error({ err: error }, 'shutdown failed'); proc.exit(1); });
  };
  proc.onSignal('SIGTERM', () => shutdown('SIGTERM'));
  proc.onSignal('SIGINT', () => shutdown('SIGINT'));
}

/** Runs a one-shot command over a full registry and always closes it (PGlite must flush). */
async function withRegistry(config: Readonly<Config>, log: pino.Logger, command: (registry: Registry) => Promise<number>): Promise<number> {
  const registry = await createRegistry(config, { masterKey: masterKey(config, log), logger: log });
  try {
    return await command(registry);
  } finally {
    await registry.close();
  }
}

/** `portcullis policy test [dir]`: exit 0 when every case passes, 1 on a mismatch, 78 when a file is invalid. */
async function policyTest(dir: string, proc: CliProcess): Promise<number> {
  try {
    const policySet = await loadPolicies(dir);
    const suites = await loadPolicyTestSuites(join(dir, 'tests'));
    const result = runPolicyTests(policySet, suites, { nowMs: Date.now() });
    proc.stdout(formatPolicyTestReport(result));
    return result.failed.length === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof PolicyLoadError) {
      proc.stderr(error.message);
      return 78;
    }
    throw error;
  }
}

/** Runs one CLI command; resolves with the exit code for commands that end (serve keeps running). */
export async function runCli(proc: CliProcess): Promise<number | undefined> {
  const { positionals, values } = parseArgs({
    args: [...proc.argv], allowPositionals: true, strict: true,
    options: { config: { type: 'string' }, now: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    proc.stdout(USAGE);
    return 0;
  }
  // `policy test` needs neither config nor database: it is what CI runs on the policy files.
  if (positionals[0] === 'policy' && positionals[1] === 'test') return policyTest(positionals[2] ?? 'policies', proc);
  const command = positionals.join(' ') || 'serve';
  let config: Readonly<Config>;
  try {
    config = loadConfig({ argv: proc.argv, env: proc.env, readFile: (p) => readFileSync(p, 'utf8') });
  } catch (error) {
    if (error instanceof ConfigError) {
      proc.stderr(error.message);
      return 78; // EX_CONFIG
    }
    throw error;
  }
  // The server logs to stdout; one-shot commands keep stdout for their result (`audit verify | jq`).
  const log = command === 'serve' ? pino(loggerOptions(config.logLevel)) : pino(loggerOptions(config.logLevel), pino.destination(2));
  switch (command) {
    case 'serve':
      await serve(config, proc, log);
      return undefined;
    case 'migrate': {
      const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, connectTimeoutMs: config.database.connectTimeoutMs });
      try {
        const applied = await migrateToLatest(database.db);
        proc.stdout(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
      } finally {
        await database.close();
      }
      return 0;
    }
    case 'keys rotate':
      return withRegistry(config, log, async (registry) => {
        await registry.keyRing.refresh();
        const { kid, activatesAt } = await registry.keyRing.rotate({ immediate: values.now === true });
        proc.stdout(JSON.stringify({ kid, publishedAt: new Date(registry.clock.nowMs()).toISOString(), activatesAt: activatesAt.toISOString() }));
        return 0;
      });
    case 'audit verify':
      return withRegistry(config, log, async (registry) => {
        const result = await registry.verifyAuditChain();
        proc.stdout(JSON.stringify(result));
        return result.ok ? 0 : 1;
      });
    default:
      proc.stderr(`unknown command: ${command}\n${USAGE}`);
      return 64; // EX_USAGE
  }
}
