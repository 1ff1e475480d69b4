// Cached whoami and bare Fastify measured in alternation on the same core, so drift of the shared
// VM between scenarios (minutes apart) cannot move their ratio.
import { getText } from '../lib/http.js';
import { type LoadSpec, runLoad, serverMicrosecondsPerRequest } from '../lib/load.js';
import { cleanEnv, freePort, type Managed, withServer } from '../lib/processes.js';
import { median } from '../lib/stats.js';
import type { PairedComparison, PairedRound, Settings } from '../lib/types.js';
import { watchOf } from './peers.js';

const ROUNDS = 7;
const ROUND_SECONDS = 3;
const WARMUP_SECONDS = 3;

/** Runs `fn` with `paused` stopped (SIGSTOP), so an idle server's timers take nothing from the measured one. */
async function whilePaused<T>(paused: Managed, fn: () => Promise<T>): Promise<T> {
  paused.child.kill('SIGSTOP');
  try {
    return await fn();
  } finally {
    paused.child.kill('SIGCONT');
  }
}

/**
 * Starts bare Fastify next to the running Portcullis (both pinned to the server core) and
 * alternates short runs: bare with Portcullis paused, then Portcullis with bare paused, ROUNDS times.
 * The ratio of each round compares two runs seconds apart; the median of those ratios is reported.
 */
export async function pairedWithBare(settings: Settings, portcullis: { server: Managed; spec: LoadSpec }): Promise<PairedComparison> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  return withServer({
    name: 'bare-fastify-paired', core: settings.serverCore, script: 'bench/servers/bare-fastify.ts', env: cleanEnv({ PORT: String(port) }), readyUrl: `${base}/json`,
  }, async (bare) => {
    if ((JSON.parse(await getText(`${base}/json`)) as { hello?: string }).hello !== 'world') throw new Error('paired bare-fastify: unexpected body');
    const bareSpec: LoadSpec = { url: `${base}/json`, connections: settings.connections };
    const runBare = (seconds: number) => whilePaused(portcullis.server, () => runLoad(bareSpec, seconds, watchOf(settings, bare.pid)));
    const runPortcullis = (seconds: number) => whilePaused(bare, () => runLoad(portcullis.spec, seconds, watchOf(settings, portcullis.server.pid)));
    process.stderr.write(`bench: cached whoami vs bare Fastify in alternation: ${ROUNDS} rounds of ${ROUND_SECONDS} s each\n`);
    await runBare(WARMUP_SECONDS);
    await runPortcullis(WARMUP_SECONDS);
    const rounds: PairedRound[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const bareRun = await runBare(ROUND_SECONDS);
      const portcullisRun = await runPortcullis(ROUND_SECONDS);
      const round: PairedRound = {
        bareReqPerSec: bareRun.reqPerSec, portcullisReqPerSec: portcullisRun.reqPerSec, ratio: portcullisRun.reqPerSec / bareRun.reqPerSec,
        bareLoadgenCpuPercent: bareRun.loadgenCpuPercent, non2xx: bareRun.non2xx + portcullisRun.non2xx + bareRun.errors + portcullisRun.errors,
      };
      const bareUs = serverMicrosecondsPerRequest(bareRun);
      const portcullisUs = serverMicrosecondsPerRequest(portcullisRun);
      if (bareUs !== undefined && portcullisUs !== undefined) {
        round.bareCpuMicroseconds = bareUs;
        round.portcullisCpuMicroseconds = portcullisUs;
      }
      rounds.push(round);
      process.stderr.write(`bench:   round ${i + 1}: bare ${Math.round(round.bareReqPerSec)} req/s, whoami ${Math.round(round.portcullisReqPerSec)} req/s, ratio ${(round.ratio * 100).toFixed(1)}%\n`);
    }
    const costs = rounds.filter((r) => r.bareCpuMicroseconds !== undefined && r.portcullisCpuMicroseconds !== undefined);
    return {
      warmupSeconds: WARMUP_SECONDS, roundSeconds: ROUND_SECONDS, rounds,
      medianRatio: median(rounds.map((r) => r.ratio)),
      ...(costs.length ? { medianCostRatio: median(costs.map((r) => r.bareCpuMicroseconds! / r.portcullisCpuMicroseconds!)) } : {}),
    };
  });
}
