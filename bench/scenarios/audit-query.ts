// The admin audit query over 1,000,000 events on PostgreSQL: the first page filtered by actor and
// type, timed through the HTTP API (the full admin path: verify, policy, cursor, query, JSON) and
// explained, so the report shows the index the plan walks.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { request } from '../lib/http.js';
import { cleanEnv, freePort, pinnedNode, runToCompletion, withServer } from '../lib/processes.js';
import type { Settings, TargetCheck } from '../lib/types.js';
import { postJson } from '../lib/http.js';

// BENCH_AUDIT_EVENTS shortens a run while working on the bench itself; the default is the reported size.
const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS) > 0 ? Number(process.env.BENCH_AUDIT_EVENTS) : 1_000_000;
const ACTORS = 10_000;
const PASSWORD = 'violet kettle drums at midnight';
// Weighted like a real log: logins and refreshes dominate, privilege changes are rare.
const TYPES: ReadonlyArray<readonly [string, number]> = [
  ['auth.token.refreshed', 40], ['auth.login.succeeded', 25], ['auth.login.failed', 12], ['auth.logout', 8],
  ['policy.denied', 6], ['user.registered', 4], ['ratelimit.blocked', 3], ['user.roles.changed', 1], ['user.locked', 1],
];

/** Latency figures of one query shape, in milliseconds. */
export interface QueryTiming { label: string; samples: number; p50Ms: number; p99Ms: number; maxMs: number; rows: number }

/** What the audit-query suite produced. */
export interface AuditQueryOutcome {
  events?: number;
  seedSeconds?: number;
  timings: QueryTiming[];
  plan?: string;
  skipped?: string;
}

/** 1M events in one INSERT … SELECT: sealed-looking rows (chain positions in order), triggers off for the load only. */
async function seed(client: pg.Client): Promise<void> {
  const total = TYPES.reduce((n, [, w]) => n + w, 0);
  // Cumulative weights as a CASE over a uniform draw: the type of each row.
  let acc = 0;
  const typeCase = `case ${TYPES.map(([type, w]) => { acc += w; return `when r < ${acc / total} then '${type}'`; }).join(' ')} end`;
  await client.query('alter table audit_events disable trigger user');
  await client.query(`
    insert into audit_events (id, time, type, actor, subject, ip, user_agent, outcome, request_id, data, chain_seq, prev_hash, hash, hash_version)
    select 'ev' || lpad(g::text, 12, '0'),
           now() - ((${EVENTS} - g) * interval '7 seconds'),
           ${typeCase},
           'u' || (floor(random() * ${ACTORS}))::int,
           'sess' || g, '10.' || (g % 250) || '.' || (g % 200) || '.1', 'bench/1.0',
           'success', 'req' || g, jsonb_build_object('n', g),
           g, md5(g::text) || md5((g + 1)::text), md5((g + 2)::text) || md5((g + 3)::text), 2
    from (select g, random() as r from generate_series(1, ${EVENTS}) as g) as s`);
  await client.query('alter table audit_events enable trigger user');
  // The seeded events stand for history already handed to the job queue, as 0003 treats the log it finds.
  await client.query('update audit_relay_position set chain_seq = (select max(chain_seq) from audit_events)');
  await client.query('analyze audit_events');
}

const pick = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** Seeds a fresh schema, starts Portcullis on it, and times first pages through the admin API. */
export async function benchAuditQuery(settings: Settings, tmp: string, databaseUrl: string | undefined): Promise<AuditQueryOutcome> {
  if (!databaseUrl) return { timings: [], skipped: 'DATABASE_URL is not set: the audit query benchmark runs on PostgreSQL' };
  const outcome: AuditQueryOutcome = { timings: [] };
  const schema = `bench_audit_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = cleanEnv({
    DATABASE_URL: url.toString(), PORTCULLIS_PORT: String(port), PORTCULLIS_LOG_LEVEL: 'warn', PORTCULLIS_DATA_DIR: join(tmp, schema),
    PORTCULLIS_MASTER_KEY: randomBytes(32).toString('base64'), PORTCULLIS_RATE_LIMIT__AUTHENTICATED__POINTS: '1000000000',
  });
  try {
    const cli = (args: string[]) => {
      const { command, args: argv } = pinnedNode(settings.serverCore, 'src/main.ts', args);
      return runToCompletion(`portcullis ${args[0]}`, command, argv, env, 120_000);
    };
    await cli(['migrate']);
    const schemaClient = new pg.Client({ connectionString: url.toString() });
    await schemaClient.connect();
    process.stderr.write(`bench: seeding ${EVENTS.toLocaleString('en-US')} audit events on PostgreSQL\n`);
    const seedStart = performance.now();
    try {
      await seed(schemaClient);
    } finally {
      await schemaClient.end();
    }
    outcome.seedSeconds = (performance.now() - seedStart) / 1000;
    outcome.events = EVENTS;
    const passwordFile = join(tmp, `${schema}.password`);
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    await cli(['admin', 'create', '--email', 'bench-admin@example.com', '--password-file', passwordFile]);

    await withServer({ name: 'portcullis-audit', core: settings.serverCore, script: 'src/main.ts', args: ['serve'], env, readyUrl: `${base}/healthz` }, async () => {
      const { accessToken } = await postJson<{ accessToken: string }>(`${base}/v1/auth/login`, { email: 'bench-admin@example.com', password: PASSWORD }, 200);
      const headers = { authorization: `Bearer ${accessToken}` };
      const time = async (label: string, paths: string[]): Promise<void> => {
        for (const path of paths.slice(0, 20)) await request(`${base}${path}`, { headers }); // warm-up: JIT, plan cache, buffers
        const ms: number[] = [];
        let rows = 0;
        for (const path of paths) {
          const started = performance.now();
          const result = await request(`${base}${path}`, { headers });
          ms.push(performance.now() - started);
          if (result.status !== 200) throw new Error(`GET ${path}: ${result.status} ${result.text.slice(0, 300)}`);
          rows += (JSON.parse(result.text) as { items: unknown[] }).items.length;
        }
        ms.sort((a, b) => a - b);
        outcome.timings.push({ label, samples: ms.length, p50Ms: pick(ms, 0.5), p99Ms: pick(ms, 0.99), maxMs: ms.at(-1)!, rows: rows / ms.length });
      };
      const actors = Array.from({ length: 300 }, (_, i) => `u${(i * 7919) % ACTORS}`);
      await time('first page, actor + type (auth.login.succeeded), limit 50', actors.map((a) => `/v1/admin/audit-events?actor=${a}&type=auth.login.succeeded&limit=50`));
      await time('first page, actor only, limit 50', actors.map((a) => `/v1/admin/audit-events?actor=${a}&limit=50`));
      await time('first page, rare type only (user.locked), limit 50', Array.from({ length: 300 }, () => '/v1/admin/audit-events?type=user.locked&limit=50'));
      await time('first page, no filter, limit 50', Array.from({ length: 300 }, () => '/v1/admin/audit-events?limit=50'));
    });

    const explain = new pg.Client({ connectionString: url.toString() });
    await explain.connect();
    try {
      // The statement Kysely sends for the first page (kysely-audit-query.ts), with the route's limit + 1.
      const plan = await explain.query(`explain (analyze, buffers, costs off)
        select chain_seq, id, time, type, actor, subject, ip, user_agent, outcome, request_id, data from audit_events
        where chain_seq is not null and type = $1 and actor = $2 order by chain_seq desc limit 51`, ['auth.login.succeeded', 'u4242']);
      outcome.plan = plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    } finally {
      await explain.end();
    }
  } finally {
    await admin.query(`drop schema ${schema} cascade`).catch(() => undefined);
    await admin.end();
  }
  return outcome;
}

/** The suite's own Markdown sections. */
export function auditQuerySections(outcome: AuditQueryOutcome): string[] {
  if (outcome.skipped) return ['## Skipped', '', `- ${outcome.skipped}`, ''];
  return [
    '## Method', '',
    `- A fresh PostgreSQL schema, migrated by \`portcullis migrate\`, then ${(outcome.events ?? 0).toLocaleString('en-US')} sealed audit events in one \`INSERT … SELECT\` (${outcome.seedSeconds?.toFixed(0) ?? 'n/a'} s): ${ACTORS.toLocaleString('en-US')} actors, ${TYPES.length} types weighted like a real log (refreshes 40%, … user.locked 1%), one event every 7 s over ~81 days; \`ANALYZE\` after.`,
    '- An admin made by `portcullis admin create`; Portcullis serving on the server core; each figure is one request at a time through `GET /v1/admin/audit-events` (token verify, policy, cursor, seal check, query, JSON), 300 requests after 20 warm-up ones, client-side wall time on loopback.',
    '',
    '## First-page latency over 1,000,000 events', '',
    '| Query | Requests | Rows per page | p50 ms | p99 ms | max ms |', '|---|--:|--:|--:|--:|--:|',
    ...outcome.timings.map((t) => `| ${t.label} | ${t.samples} | ${t.rows.toFixed(1)} | ${t.p50Ms.toFixed(2)} | **${t.p99Ms.toFixed(2)}** | ${t.maxMs.toFixed(2)} |`),
    '',
    '## Query plan (actor + type, first page)', '',
    '```', outcome.plan ?? 'n/a', '```', '',
  ];
}

/** The issue's target: the first filtered page under 50 ms, on an index. */
export function auditQueryTargets(outcome: AuditQueryOutcome): TargetCheck[] {
  const t = outcome.timings[0];
  const usesIndex = outcome.plan !== undefined && /Index (Only )?Scan/.test(outcome.plan) && !/Seq Scan/.test(outcome.plan);
  return [
    t === undefined
      ? { name: 'first page, actor + type, over 1M events < 50 ms', measured: outcome.skipped ? 'n/a (skipped)' : 'n/a (missing data)', pass: undefined, suspect: false }
      : { name: 'first page, actor + type, over 1M events < 50 ms (p99 through HTTP)', measured: `${t.p99Ms.toFixed(2)} ms`, pass: t.p99Ms < 50, suspect: false },
    { name: 'the plan walks an index (no sequential scan)', measured: outcome.plan ? (usesIndex ? 'index scan' : 'NOT an index scan') : 'n/a', pass: outcome.plan ? usesIndex : undefined, suspect: false },
  ];
}
