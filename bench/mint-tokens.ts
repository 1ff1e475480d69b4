// Mints many distinct, valid Portcullis access tokens straight from the app's own code, in its own
// process, against the data dir the server will open next (PGlite allows one process at a time).
// Input (env): MINT_DATA_DIR, MINT_PORT (must equal the serving port: it is in the issuer claim),
// MINT_COUNT, MINT_OUT (one token per line), MINT_EMAIL, MINT_PASSWORD; optional MINT_ROLES (comma-separated
// roles put in the tokens instead of the account's, e.g. authz-client for the decision API).
// Output: one JSON line on stdout: { userId, sid, count, ms }.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../src/platform/config/load.js';
import { resolveMasterKey } from '../src/platform/config/master-key.js';
import { createRegistry } from '../src/registry.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

/** Reads the `sid` claim of a compact JWT without verifying it (the token came from the registry itself). */
function sidOf(jwt: string): string {
  const payload = jwt.split('.')[1];
  if (!payload) throw new Error('access token is not a compact JWS');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sid?: unknown };
  if (typeof claims.sid !== 'string') throw new Error('access token has no sid claim');
  return claims.sid;
}

const dir = required('MINT_DATA_DIR');
const port = Number(required('MINT_PORT'));
const count = Number(required('MINT_COUNT'));
const out = required('MINT_OUT');
const email = required('MINT_EMAIL');
const password = required('MINT_PASSWORD');

const started = performance.now();
const config = loadConfig({
  argv: [],
  env: { PORTCULLIS_DATA_DIR: dir, PORTCULLIS_PORT: String(port), PORTCULLIS_LOG_LEVEL: 'warn' },
  readFile: (p) => readFileSync(p, 'utf8'),
});
mkdirSync(dir, { recursive: true });
const { key } = resolveMasterKey({ configured: undefined, production: false, dataDir: dir }, {
  readFile: (p) => { try { return readFileSync(p, 'utf8'); } catch { return undefined; } },
  writeFileExclusive: (p, c, mode) => writeFileSync(p, c, { mode, flag: 'wx' }),
});
const registry = await createRegistry(config, { masterKey: key });
try {
  await registry.start();
  const ctx = { ip: '127.0.0.1', userAgent: 'bench', requestId: 'bench' };
  const user = await registry.registerUser({ email, password }, ctx);
  const pair = await registry.login({ email, password }, ctx);
  const sid = sidOf(pair.accessToken);
  const roles = process.env.MINT_ROLES ? process.env.MINT_ROLES.split(',') : user.roles;
  const subject = { id: user.id, roles, tenant: null };

  const tokens: string[] = [];
  const batch = 256;
  while (tokens.length < count) {
    const n = Math.min(batch, count - tokens.length);
    tokens.push(...await Promise.all(Array.from({ length: n }, () => registry.signAccessToken(subject, sid))));
  }
  if (new Set(tokens).size !== tokens.length) throw new Error('minted tokens are not all distinct');
  writeFileSync(out, `${tokens.join('\n')}\n`);
  process.stdout.write(`${JSON.stringify({ userId: user.id, sid, count: tokens.length, ms: Math.round(performance.now() - started) })}\n`);
} finally {
  await registry.close();
}
