// Policy decisions: in-process on one core, and through POST /v1/authz/check, beside bare Fastify.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import { attempt } from '../lib/attempt.js';
import { waitForQuiet } from '../lib/cpu.js';
import { runScenario } from '../lib/load.js';
import { cleanEnv, freePort, pinnedNode, REPO_ROOT, runToCompletion, withServer } from '../lib/processes.js';
import type { ScenarioResult, Settings, TargetCheck } from '../lib/types.js';
import { realisticQuestions, writeRealisticPolicies, type Question } from '../decisions/realistic-policies.js';
import { scheduleOf, watchOf } from './peers.js';
import { mintTokens } from './portcullis.js';

/** What bench/decisions/decide-rate.ts prints. */
export interface InProcessDecisions {
  kinds: number;
  questions: number;
  decisionsPerCheck: number;
  allowedShare: number;
  checksPerSec: number;
  decisionsPerSec: number;
  samples: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

/** What the policy part of the bench produced. */
export interface PolicyOutcome {
  inProcess?: InProcessDecisions;
  scenarios: ScenarioResult[];
}

/** The shipped policies (the decision API's own gate among them) plus the generated 20-kind set. */
function preparePolicyDir(tmp: string): string {
  const dir = join(tmp, 'bench-policies');
  mkdirSync(dir, { recursive: true });
  const shipped = join(REPO_ROOT, 'policies');
  for (const name of readdirSync(shipped)) if (name.endsWith('.yaml')) cpSync(join(shipped, name), join(dir, name));
  writeRealisticPolicies(dir);
  return dir;
}

async function inProcess(settings: Settings, dir: string): Promise<InProcessDecisions> {
  await waitForQuiet(settings.quietBusyPercent, settings.scenarioQuietWaitSeconds);
  process.stderr.write(`bench: in-process policy decisions on core ${settings.serverCore}\n`);
  const { command, args } = pinnedNode(settings.serverCore, 'bench/decisions/decide-rate.ts');
  const stdout = await runToCompletion('decide-rate', command, args, {
    ...process.env, DECIDE_POLICY_DIR: dir, DECIDE_SECONDS: String(settings.verifySeconds),
  }, 120_000);
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as InProcessDecisions;
}

/** Rotates request bodies over `bodies`, one per request, like many different questions from many callers. */
function rotating(bodies: readonly string[]): (request: autocannon.Request) => autocannon.Request {
  let next = 0;
  return (request) => {
    request.body = bodies[next++ % bodies.length]!;
    return request;
  };
}

/** In-process rates on the server core, then the decision API under load: allowed-only questions, and the realistic mix whose denials are audited. */
export async function benchPolicy(settings: Settings, tmp: string, errors: string[]): Promise<PolicyOutcome> {
  const outcome: PolicyOutcome = { scenarios: [] };
  const dir = preparePolicyDir(tmp);
  outcome.inProcess = await attempt('policy in-process', errors, () => inProcess(settings, dir));

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = join(tmp, 'policy-data');
  const { tokens } = await mintTokens(dataDir, port, 1, join(tmp, 'authz-token.txt'), ['authz-client']);
  const headers = { authorization: `Bearer ${tokens[0]!}`, 'content-type': 'application/json' };
  const questions = realisticQuestions(10_000);
  const wire = (q: Question): string => JSON.stringify(q);
  // Which questions are allowed on every action is read from the server itself, not recomputed here.
  const env = cleanEnv({
    PORTCULLIS_DATA_DIR: dataDir, PORTCULLIS_PORT: String(port), PORTCULLIS_LOG_LEVEL: 'warn', PORTCULLIS_POLICY__DIR: dir,
    PORTCULLIS_RATE_LIMIT__AUTHENTICATED__POINTS: '1000000000',
  });
  await attempt('policy http', errors, () => withServer({
    name: 'portcullis-authz', core: settings.serverCore, script: 'src/main.ts', args: ['serve'], env, readyUrl: `${base}/healthz`,
  }, async (server) => {
    const allowedOnly: string[] = [];
    for (const q of questions.slice(0, 2000)) {
      const response = await fetch(`${base}/v1/authz/check`, { method: 'POST', headers, body: wire(q) });
      if (response.status !== 200) throw new Error(`authz check answered ${response.status}: ${await response.text()}`);
      const { results } = await response.json() as { results: Record<string, { allow: boolean }> };
      if (Object.values(results).every((r) => r.allow)) allowedOnly.push(wire(q));
    }
    const schedule = scheduleOf(settings);
    const watch = watchOf(settings, server.pid);
    const spec = (bodies: readonly string[]) => ({
      url: `${base}/v1/authz/check`, method: 'POST' as const, connections: settings.connections, headers, setupRequest: rotating(bodies),
    });
    const allowed = await runScenario('authz-allowed', 'Portcullis `POST /v1/authz/check`, allowed questions (not audited)', spec(allowedOnly), schedule, watch);
    allowed.notes.push(`${allowedOnly.length} distinct allowed questions of the realistic set, rotated`);
    outcome.scenarios.push(allowed);
    const mixed = await runScenario('authz-mixed', 'Portcullis `POST /v1/authz/check`, realistic mix (denials audited)', spec(questions.map(wire)), schedule, watch);
    mixed.notes.push(`${questions.length} distinct questions; ${Math.round((1 - allowedOnly.length / 2000) * 100)}% of requests have at least one denied action, each audited as policy.denied`);
    outcome.scenarios.push(mixed);
  }));
  return outcome;
}

const us = (n: number | undefined): string => (n === undefined ? 'n/a' : `${n.toFixed(1)} µs`);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The suite's own Markdown sections. */
export function policySections(outcome: PolicyOutcome, settings: Settings): string[] {
  const d = outcome.inProcess;
  return [
    '## Policy set', '',
    `- 20 resource kinds generated by \`bench/decisions/realistic-policies.ts\` (plus the shipped \`policies/\`): each with two derived roles computed from attributes (\`owner\`, \`team-member\`), eight rules of which six carry CEL conditions (attribute comparisons, list membership, \`has()\`, request time), tenant isolation on every other kind, deny rules that override allows.`,
    `- 10,000 deterministic questions: 7 role mixes, 1 in 10 resources in another tenant, 1 to 3 actions per question${d ? ` (${d.decisionsPerCheck.toFixed(2)} on average; ${(d.allowedShare * 100).toFixed(0)}% of decisions allow)` : ''}.`,
    '',
    `## In-process decisions (core ${settings.serverCore}, \`checkResource\`, one process)`, '',
    ...(d ? [
      '| | |', '|---|--:|',
      `| checks/s (one question, all its actions) | ${int(d.checksPerSec)} |`,
      `| decisions/s (one action) | ${int(d.decisionsPerSec)} |`,
      `| latency per check p50 / p99 / p99.9 / max | ${us(d.p50Us)} / **${us(d.p99Us)}** / ${us(d.p999Us)} / ${us(d.maxUs)} |`,
      `| samples timed one by one | ${int(d.samples)} |`,
      '',
      '- Each check is timed alone with `process.hrtime.bigint()` (about 0.1 µs of its own) into a preallocated array; the throughput loop is untimed.',
      '- Found while building this: in @bufbuild/cel 0.6 a timestamp accessor with a time-zone argument (`request.time.getHours("UTC")`) builds an `Intl.DateTimeFormat` on every call and costs about 250 µs; the argument-less forms are UTC by the CEL spec and cost well under 1 µs. The generated set uses them; the README warns policy authors.',
      '',
    ] : ['n/a (the measurement failed, see Errors)', '']),
    '## Decision API over HTTP', '',
    '- `POST /v1/authz/check` with a bearer token of role `authz-client`, one question per request, bodies rotated over the question set; the full pipeline: verify (cached token), revocation, per-subject limit, schema validation, the caller gate policy, then the question.',
    '',
  ];
}

/** The issue's target for the engine: p99 under 50 µs in-process. */
export function policyTargets(outcome: PolicyOutcome): TargetCheck[] {
  const p99 = outcome.inProcess?.p99Us;
  return [p99 === undefined
    ? { name: 'in-process decision p99 < 50 µs', measured: 'n/a (missing data)', pass: undefined, suspect: false }
    : { name: 'in-process decision p99 < 50 µs (per check of 1-3 actions)', measured: us(p99), pass: p99 < 50, suspect: false }];
}
