// In-process policy decisions on one core (the runner starts this under `taskset -c 0`).
// Input: env DECIDE_POLICY_DIR (a policy directory), DECIDE_SECONDS (per measurement).
// Output: one JSON line on stdout: checks/s and decisions/s untimed, and per-check latency
// percentiles from a separate pass that times every call (the timer itself costs ~0.1 µs).
import { checkResource, loadPolicies } from '../../src/policy/index.js';
import { realisticQuestions } from './realistic-policies.js';

const dir = process.env.DECIDE_POLICY_DIR;
const seconds = Number(process.env.DECIDE_SECONDS ?? '3');
if (!dir) throw new Error('DECIDE_POLICY_DIR is required');

const policySet = await loadPolicies(dir);
const questions = realisticQuestions(10_000);
// A fixed request time inside office hours, as a live server would pass `clock.nowMs()`.
const request = { timeMs: Date.parse('2026-11-23T12:00:00Z') };
const inputs = questions.map((q) => ({ ...q, request }));
const decisionsPerCheck = inputs.reduce((n, q) => n + q.actions.length, 0) / inputs.length;

let allowed = 0;
let denied = 0;
for (const input of inputs) {
  for (const d of Object.values(checkResource(policySet, input))) {
    if (d.allow) allowed++;
    else denied++;
  }
}

/** Untimed loop: how many checks one core answers per second. */
function throughput(): number {
  const start = performance.now();
  const end = start + seconds * 1000;
  let checks = 0;
  let i = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 200; k++) checkResource(policySet, inputs[i++ % inputs.length]!);
    checks += 200;
  }
  return checks / ((performance.now() - start) / 1000);
}

/** Times `count` calls one by one with the monotonic nanosecond clock; returns sorted microsecond samples. */
function latencies(count: number): Float64Array {
  // Preallocated: growing an array while measuring would add its own GC pauses to the tail.
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const input = inputs[i % inputs.length]!;
    const t0 = process.hrtime.bigint();
    checkResource(policySet, input);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return samples.sort();
}

const pick = (sorted: Float64Array, q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

throughput(); // warm-up: JIT and CEL program caches
const checksPerSec = throughput();
const sorted = latencies(Math.max(50_000, Math.round(checksPerSec * seconds)));
process.stdout.write(`${JSON.stringify({
  kinds: policySet.policies.size,
  questions: inputs.length,
  decisionsPerCheck,
  allowedShare: allowed / (allowed + denied),
  checksPerSec,
  decisionsPerSec: checksPerSec * decisionsPerCheck,
  samples: sorted.length,
  p50Us: pick(sorted, 0.5),
  p99Us: pick(sorted, 0.99),
  p999Us: pick(sorted, 0.999),
  maxUs: sorted[sorted.length - 1],
})}\n`);
