/**
 * `portcullis admin create` against real processes: the bootstrap of the first administrator.
 * The password arrives from a file or piped stdin, never from argv (visible in `ps` and shell
 * history: `--password` is refused before anything runs); weak passwords are refused exactly
 * like registration's; the created admin logs in to a real server and uses the admin API.
 * Runs on embedded PGlite always, and on PostgreSQL + Redis when DATABASE_URL and REDIS_URL
 * are set (required under PORTCULLIS_REQUIRE_SERVICES=1).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { postgresUrl } from '../fixtures/database.js';
import { redisUrl, servicesRequired } from '../fixtures/redis.js';
import { childEnv, createSharedServices, startServer } from '../fixtures/server-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PASSWORD = 'violet kettle drums at midnight';
const COMMAND_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 400_000;

interface Exit { code: number | null; stdout: string; stderr: string }

/** Runs the CLI with `input` written to its stdin (then closed), or with stdin at /dev/null when input is undefined. */
function runCli(args: string[], env: Record<string, string>, input?: string): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      cwd: ROOT, env: childEnv({ PORTCULLIS_LOG_LEVEL: 'warn', ...env }), stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    if (input !== undefined) child.stdin!.end(input);
  });
}

function describeExit(what: string, exit: Exit): string {
  return `${what}: code ${exit.code}\n--- stdout\n${exit.stdout.slice(-2000)}\n--- stderr\n${exit.stderr.slice(-2000)}`;
}

/** The result line: the last line of stdout that is not a pino log line. */
function result(exit: Exit): { user: { id: string; email: string; roles: string[]; tenant?: string; locked: boolean } } {
  const lines = exit.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  const results = lines.filter((l) => typeof l.level !== 'number');
  assert.equal(results.length, 1, describeExit('one result line', exit));
  return results[0] as never;
}

async function post(base: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
}

/** Every bootstrap claim on one backend. */
async function scenario(env: Record<string, string>, dir: string): Promise<void> {
  const stamp = Date.now().toString(36);
  const first = `root-${stamp}@example.com`;
  const second = `second-${stamp}@example.com`;

  const fromStdin = await runCli(['admin', 'create', '--email', first], env, `${PASSWORD}\n`);
  assert.equal(fromStdin.code, 0, describeExit('password from stdin', fromStdin));
  const created = result(fromStdin).user;
  assert.equal(created.email, first);
  assert.deepEqual(created.roles, ['user', 'admin']);
  assert.equal(created.locked, false);
  assert.ok(!fromStdin.stdout.includes(PASSWORD) && !fromStdin.stderr.includes(PASSWORD));

  const file = join(dir, 'password.txt');
  writeFileSync(file, `${PASSWORD}\r\n`, { mode: 0o600 });
  const fromFile = await runCli(['admin', 'create', '--email', second, '--password-file', file, '--tenant', 'acme'], env);
  assert.equal(fromFile.code, 0, describeExit('password from file', fromFile));
  assert.equal(result(fromFile).user.tenant, 'acme');

  for (const argv of [['--password', 'hunter2 hunter2 hunter2'], ['--password=hunter2 hunter2 hunter2']]) {
    const refused = await runCli(['admin', 'create', '--email', `argv-${stamp}@example.com`, ...argv], env, `${PASSWORD}\n`);
    assert.equal(refused.code, 64, describeExit('--password in argv', refused));
    assert.match(refused.stderr, /--password is not accepted/);
    assert.match(refused.stderr, /--password-file/);
    assert.ok(!refused.stderr.includes('hunter2'), 'the refused password is not echoed');
  }

  for (const [weak, rule] of [['short pass', /at least 15 characters/], ['passwordpassword', /too common/], [`weak-${stamp} and some more words`, /must not contain the email/]] as const) {
    const refused = await runCli(['admin', 'create', '--email', `weak-${stamp}@example.com`], env, `${weak}\n`);
    assert.equal(refused.code, 1, describeExit(`weak password ${weak}`, refused));
    assert.match(refused.stderr, /password does not meet the password policy/);
    assert.match(refused.stderr, rule);
    assert.ok(!refused.stderr.includes(weak) && !refused.stdout.includes(weak));
  }

  const taken = await runCli(['admin', 'create', '--email', first.toUpperCase()], env, `${PASSWORD}\n`);
  assert.equal(taken.code, 1, describeExit('email taken', taken));
  assert.match(taken.stderr, /an account with this email already exists/);

  const noEmail = await runCli(['admin', 'create'], env, `${PASSWORD}\n`);
  assert.equal(noEmail.code, 64, describeExit('no --email', noEmail));
  assert.match(noEmail.stderr, /--email is required/);
  const noPassword = await runCli(['admin', 'create', '--email', `empty-${stamp}@example.com`], env);
  assert.equal(noPassword.code, 64, describeExit('empty stdin', noPassword));
  assert.match(noPassword.stderr, /no password in stdin/);
  const twoLines = await runCli(['admin', 'create', '--email', `lines-${stamp}@example.com`], env, `${PASSWORD}\nsecond line\n`);
  assert.equal(twoLines.code, 64, describeExit('two lines', twoLines));
  assert.match(twoLines.stderr, /single line/);

  const usage = await runCli(['--help'], env);
  assert.match(usage.stdout, /admin create --email E \[--password-file F\] \[--tenant T\]/);

  const server = await startServer(env, COMMAND_TIMEOUT_MS);
  try {
    const login = await post(server.url, '/v1/auth/login', { email: first, password: PASSWORD });
    assert.equal(login.status, 200, await login.clone().text());
    const { accessToken } = (await login.json()) as { accessToken: string };
    const list = await fetch(`${server.url}/v1/admin/users?limit=200`, { headers: { authorization: `Bearer ${accessToken}` }, signal: AbortSignal.timeout(15_000) });
    assert.equal(list.status, 200, await list.clone().text());
    const emails = ((await list.json()) as { items: Array<{ email: string; roles: string[] }> }).items.map((u) => u.email).sort();
    // Only the two accounts that were created: no refused attempt left one behind.
    assert.deepEqual(emails, [first, second].sort());

    const tenantLogin = await post(server.url, '/v1/auth/login', { email: second, password: PASSWORD });
    const tenantToken = ((await tenantLogin.json()) as { accessToken: string }).accessToken;
    const whoami = (await (await fetch(`${server.url}/v1/auth/whoami`, { headers: { authorization: `Bearer ${tenantToken}` } })).json()) as { roles: string[]; tenant?: string };
    assert.deepEqual(whoami, { ...whoami, roles: ['user', 'admin'], tenant: 'acme' });

    const audit = await fetch(`${server.url}/v1/admin/audit-events?type=user.registered`, { headers: { authorization: `Bearer ${accessToken}` } });
    const events = ((await audit.json()) as { items: Array<{ subject: string; actor?: string; data: Record<string, unknown> }> }).items;
    const bootstrap = events.find((e) => e.subject === created.id);
    assert.deepEqual(bootstrap?.data, { email: first, roles: ['user', 'admin'], tenant: null, bootstrap: true });
    assert.equal(bootstrap?.actor, undefined);
  } finally {
    const code = await server.stop();
    assert.equal(code, 0, server.output());
  }
}

describe('portcullis admin create on embedded PGlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-admin-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('bootstraps administrators from stdin or a file, refuses argv passwords, weak passwords and taken emails', { timeout: TEST_TIMEOUT_MS }, async () => {
    await scenario({ PORTCULLIS_DATA_DIR: join(dir, 'data') }, dir);
  });
});

const databaseUrl = postgresUrl();
const distributedSkip = databaseUrl && redisUrl ? false : servicesRequired ? false : 'DATABASE_URL and REDIS_URL are not both set';

describe('portcullis admin create on PostgreSQL and Redis', { skip: distributedSkip }, () => {
  it('bootstraps administrators from stdin or a file, refuses argv passwords, weak passwords and taken emails', { timeout: TEST_TIMEOUT_MS }, async () => {
    assert.ok(databaseUrl && redisUrl, 'PORTCULLIS_REQUIRE_SERVICES=1 needs DATABASE_URL and REDIS_URL');
    const services = await createSharedServices(databaseUrl, redisUrl);
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-admin-cli-pg-'));
    try {
      await scenario(services.env, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await services.close();
    }
  });
});
