// Raw signature-verification rates, measured in a child pinned to the server core.
import { waitForQuiet } from '../lib/cpu.js';
import { pinnedNode, runToCompletion } from '../lib/processes.js';
import type { Settings, VerifyRates } from '../lib/types.js';

/** Runs bench/verify-rate.ts on the server core and returns its ops/s figures. */
export async function measureVerifyRates(settings: Settings, peer: { publicKeyFile: string; token: string }): Promise<VerifyRates> {
  await waitForQuiet(settings.quietBusyPercent, settings.scenarioQuietWaitSeconds);
  process.stderr.write(`bench: raw signature verification on core ${settings.serverCore} (~${settings.verifySeconds * 4}s)\n`);
  const { command, args } = pinnedNode(settings.serverCore, 'bench/verify-rate.ts');
  const stdout = await runToCompletion('verify-rate', command, args, {
    ...process.env, VERIFY_TOKEN: peer.token, VERIFY_PUBLIC_KEY_FILE: peer.publicKeyFile, VERIFY_SECONDS: String(settings.verifySeconds),
  }, 120_000);
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as VerifyRates;
}
