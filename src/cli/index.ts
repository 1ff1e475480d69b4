import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../app.js';
import { ConfigError, loadConfig } from '../platform/config/load.js';
import { formatPolicyTestReport, loadPolicies, loadPolicyTestSuites, PolicyLoadError, runPolicyTests } from '../policy/index.js';
import { resolveMasterKey } from '../platform/config/master-key.js';
import type { Config } from '../platform/config/schema.js';
import { migrateToLatest, openDatabase } from '../platform/db/database.js';
import { exitGracefullyOnSignals } from '../platform/graceful-shutdown.js';
import { loggerOptions } from '../platform/observability/logger.js';
import { createRegistry, type Registry } from '../registry.js';
import { SigningKeyUnreadableError } from '../tokens/index.js';
import { runWorker } from '../worker.js';
import { adminCreate, argvPasswordRefusal, type CliStdin } from './admin-create.js';
import { serveCluster } from './cluster.js';

/** The process surface the CLI needs; main.ts passes the real one. */
export interface CliProcess {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  onSignal: (signal: 'SIGTERM' | 'SIGINT', handler: () => void) => void;
  exit: (code: number) => void;
  /** Standard input, for secrets that must not travel in argv (`admin create`). */
  stdin?: CliStdin;
}

const USAGE = `usage: portcullis <command> [--config file.yaml]
  serve                 run the HTTP server (default)
  serve --cluster N     fork N server processes sharing the port (0 or auto: one per core); needs DATABASE_URL and REDIS_URL
  worker                consume the job queue (security-event handlers) until SIGTERM; needs DATABASE_URL and REDIS_URL
  migrate               apply database migrations and exit
  keys rotate [--now]   add a signing key (published now, signs after tokens.keyActivationDelaySeconds; --now signs at once)
  audit verify          seal pending audit events, then check the hash chain; exit 1 when it is broken
  policy test [dir]     run the YAML policy tests in <dir>/tests against the policies in <dir> (default policies/)
  admin create --email E [--password-file F] [--tenant T]
                        create an administrator; the password comes from F, else piped stdin, else a
                        prompt that does not echo (never from the command line: --password is refused)
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

async function serve(config: Readonly<Config>, proc: CliProcess, log: pino.Logger, beforeListen?: (app: FastifyInstance) => void): Promise<void> {
  const registry = await createRegistry(config, { masterKey: masterKey(config, log), logger: log });
  try {
    await registry.start();
  } catch (error) {
    await registry.close().catch(() => undefined);
    throw error;
  }
  const app = await buildApp(registry);
  beforeListen?.(app);
  await app.listen({ host: config.host, port: config.port });
  const options = { graceMs: config.http.shutdownGraceMs, draining: 'shutting down: draining in-flight requests', done: 'shutdown complete' };
  exitGracefullyOnSignals(proc, log, options, async () => {
    // app.close waits for in-flight requests; the database closes only after them, so no write is lost.
    await app.close();
    await registry.close();
  });
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

/** Applies pending migrations and closes the connection; returns the names applied. */
async function migrate(config: Readonly<Config>): Promise<string[]> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl, dataDir: config.dataDir, connectTimeoutMs: config.database.connectTimeoutMs,
    embeddedSharedBuffersMb: config.database.embeddedSharedBuffersMb,
  });
  try {
    return await migrateToLatest(database.db);
  } finally {
    await database.close();
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
  const passwordInArgv = argvPasswordRefusal(proc.argv);
  if (passwordInArgv) {
    proc.stderr(passwordInArgv);
    return 64; // EX_USAGE
  }
  const { positionals, values } = parseArgs({
    args: [...proc.argv], allowPositionals: true, strict: true,
    options: {
      config: { type: 'string' }, now: { type: 'boolean' }, cluster: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      email: { type: 'string' }, 'password-file': { type: 'string' }, tenant: { type: 'string' },
    },
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
  // Long-running processes (serve, worker) log to stdout; one-shot commands keep stdout for their result (`audit verify | jq`).
  const log = command === 'serve' || command === 'worker' ? pino(loggerOptions(config.logLevel)) : pino(loggerOptions(config.logLevel), pino.destination(2));
  if (values.cluster !== undefined && command !== 'serve') {
    proc.stderr(`--cluster applies to serve only\n${USAGE}`);
    return 64; // EX_USAGE
  }
  switch (command) {
    case 'serve':
      if (values.cluster !== undefined) {
        return serveCluster(values.cluster, {
          config, proc, log,
          prepare: async () => {
            masterKey(config, log);
            await migrate(config);
          },
          serve: (workerLog, beforeListen) => serve(config, proc, workerLog, beforeListen),
        });
      }
      try {
        await serve(config, proc, log);
      } catch (error) {
        if (!(error instanceof SigningKeyUnreadableError)) throw error;
        proc.stderr(`portcullis: ${error.message}`);
        return 78; // EX_CONFIG
      }
      return undefined;
    case 'worker':
      return runWorker(config, proc, log);
    case 'migrate': {
      const applied = await migrate(config);
      proc.stdout(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
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
        // The operator's check covers everything committed so far: seal what is pending, then verify.
        await registry.sealAuditChain();
        const result = await registry.verifyAuditChain();
        proc.stdout(JSON.stringify(result));
        return result.ok ? 0 : 1;
      });
    case 'admin create':
      return adminCreate(
        { email: values.email, passwordFile: values['password-file'], tenant: values.tenant }, proc,
        (run) => withRegistry(config, log, (registry) => run(registry.admin.createAdmin)),
      );
    default:
      proc.stderr(`unknown command: ${command}\n${USAGE}`);
      return 64; // EX_USAGE
  }
}
