// The performance targets from the brief, evaluated against one run's numbers.
import type { LoginBurst, PairedComparison, ScenarioResult, TargetCheck, VerifyRates } from './types.js';

/** True when a scenario saw non-2xx responses or connection errors (in warm-up or runs). */
export function isSuspect(s: ScenarioResult | undefined): boolean {
  return s !== undefined && (s.non2xxTotal > 0 || s.errorsTotal > 0 || s.warmup.non2xx > 0 || s.warmup.errors > 0);
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function ratioCheck(name: string, a: ScenarioResult | undefined, b: number | undefined, min: number, show: (r: number) => string, suspects: boolean): TargetCheck {
  if (!a || b === undefined || b <= 0) return { name, measured: 'n/a (missing data)', pass: undefined, suspect: suspects };
  const ratio = a.medianReqPerSec / b;
  return { name, measured: show(ratio), pass: ratio >= min, suspect: suspects };
}

/** Evaluates the four targets; a missing number gives pass = undefined rather than a failure. */
export function evaluateTargets(scenarios: ScenarioResult[], verify: VerifyRates | undefined, burst: LoginBurst | undefined, paired?: PairedComparison): TargetCheck[] {
  const by = (id: string): ScenarioResult | undefined => scenarios.find((s) => s.id === id);
  const bare = by('bare-fastify');
  const peer = by('express-peer');
  const cached = by('whoami-cached');
  const uncached = by('whoami-uncached');
  const checks: TargetCheck[] = [
    ratioCheck('cached whoami >= 70% of bare Fastify', cached, bare?.medianReqPerSec, 0.7, pct, isSuspect(cached) || isSuspect(bare)),
    // The same target, measured in alternation (bare and whoami seconds apart): VM drift between scenarios cancels out.
    paired
      ? { name: 'cached whoami >= 70% of bare Fastify, alternating runs (median of rounds)', measured: pct(paired.medianRatio), pass: paired.medianRatio >= 0.7, suspect: paired.rounds.some((r) => r.non2xx > 0) }
      : { name: 'cached whoami >= 70% of bare Fastify, alternating runs (median of rounds)', measured: 'n/a (missing data)', pass: undefined, suspect: false },
    ratioCheck('cached whoami >= 10x Express peer', cached, peer?.medianReqPerSec, 10, (r) => `${r.toFixed(2)}x`, isSuspect(cached) || isSuspect(peer)),
    ratioCheck('uncached whoami >= 90% of raw ES256 verify rate (node:crypto, core 0)', uncached, verify?.nodeCryptoEs256, 0.9, pct, isSuspect(uncached)),
  ];
  const p99 = burst?.eventLoopP99Seconds;
  checks.push(p99 === undefined || !burst
    ? { name: 'event-loop p99 < 20 ms during 32 concurrent logins', measured: 'n/a (missing data)', pass: undefined, suspect: false }
    : { name: 'event-loop p99 < 20 ms during 32 concurrent logins', measured: `${(p99 * 1000).toFixed(2)} ms`, pass: p99 < 0.02, suspect: burst.non2xx > 0 || burst.errors > 0 });
  return checks;
}
