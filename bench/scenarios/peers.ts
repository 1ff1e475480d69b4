// The comparison servers: bare Fastify (the ceiling) and the Express tutorial stack (the peer).
import { getText } from '../lib/http.js';
import { runScenario, type Schedule, type Watch } from '../lib/load.js';
import { cleanEnv, freePort, processRssBytes, withServer } from '../lib/processes.js';
import type { ScenarioResult, Settings } from '../lib/types.js';

/** Settings to the schedule runScenario takes. */
export function scheduleOf(settings: Settings): Schedule {
  return {
    warmupSeconds: settings.warmupSeconds, maxWarmupSeconds: settings.maxWarmupSeconds, warmupSettlePercent: settings.warmupSettlePercent, runSeconds: settings.runSeconds, runs: settings.runs, pauseMs: settings.pauseMs,
    quietWaitSeconds: settings.scenarioQuietWaitSeconds, quietBusyPercent: settings.quietBusyPercent, maxRetries: settings.maxContendedRetries,
  };
}

/** The CPU accounting a run needs: the server's pid and which core is which. */
export function watchOf(settings: Settings, serverPid: number): Watch {
  return { serverPid, serverCore: settings.serverCore, loadgenCore: settings.loadgenCore };
}

/** Bare Fastify 5, `GET /json` -> `{hello:'world'}`: the per-request floor every other number is compared with. */
export async function benchBareFastify(settings: Settings): Promise<ScenarioResult> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  return withServer({
    name: 'bare-fastify', core: settings.serverCore, script: 'bench/servers/bare-fastify.ts',
    env: cleanEnv({ PORT: String(port) }), readyUrl: `${base}/json`,
  }, async (server) => {
    const body = JSON.parse(await getText(`${base}/json`)) as { hello?: string };
    if (body.hello !== 'world') throw new Error(`bare-fastify: unexpected body ${JSON.stringify(body)}`);
    const rss = processRssBytes(server.pid);
    const result = await runScenario('bare-fastify', 'Bare Fastify `GET /json`', { url: `${base}/json`, connections: settings.connections }, scheduleOf(settings), watchOf(settings, server.pid));
    result.serverRssAfterStartBytes = rss;
    return result;
  });
}

/** Express 5 + helmet + express-rate-limit + jsonwebtoken verifying the same ES256 token on every request. */
export async function benchExpressPeer(settings: Settings, peer: { publicKeyFile: string; token: string }): Promise<ScenarioResult> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${peer.token}` };
  return withServer({
    name: 'express-peer', core: settings.serverCore, script: 'bench/servers/express-peer.ts',
    env: cleanEnv({ PORT: String(port), PEER_PUBLIC_KEY_FILE: peer.publicKeyFile }), readyUrl: `${base}/v1/auth/whoami`, readyHeaders: headers,
  }, async (server) => {
    const body = JSON.parse(await getText(`${base}/v1/auth/whoami`, headers)) as { sub?: string };
    if (body.sub !== 'bench-user') throw new Error(`express-peer: unexpected body ${JSON.stringify(body)}`);
    const rss = processRssBytes(server.pid);
    const result = await runScenario('express-peer', 'Express peer `GET /v1/auth/whoami` (jsonwebtoken, PEM)', { url: `${base}/v1/auth/whoami`, connections: settings.connections, headers }, scheduleOf(settings), watchOf(settings, server.pid));
    result.serverRssAfterStartBytes = rss;
    return result;
  });
}
