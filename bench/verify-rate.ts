// Raw JWT signature-verification rates on one core (the runner starts this under `taskset -c 0`).
// Input: env VERIFY_TOKEN (an ES256 JWT) and VERIFY_PUBLIC_KEY_FILE (its SPKI PEM); VERIFY_SECONDS per measurement.
// Output: one JSON line on stdout with ops/s for each method.
import { createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { importSPKI, jwtVerify } from 'jose';

const token = process.env.VERIFY_TOKEN;
const keyFile = process.env.VERIFY_PUBLIC_KEY_FILE;
const seconds = Number(process.env.VERIFY_SECONDS ?? '3');
if (!token || !keyFile) throw new Error('VERIFY_TOKEN and VERIFY_PUBLIC_KEY_FILE are required');
const publicKeyPem = readFileSync(keyFile, 'utf8');

const [headerB64, payloadB64, signatureB64] = token.split('.');
if (!headerB64 || !payloadB64 || !signatureB64) throw new Error('VERIFY_TOKEN is not a compact JWS');
const signingInput = Buffer.from(`${headerB64}.${payloadB64}`);
const es256Signature = Buffer.from(signatureB64, 'base64url');

/** Runs a synchronous check in batches for `seconds` and returns checks per second. */
function rateSync(check: () => boolean): number {
  if (!check()) throw new Error('verification failed before measuring');
  const start = performance.now();
  const end = start + seconds * 1000;
  let ops = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) check();
    ops += 50;
  }
  return ops / ((performance.now() - start) / 1000);
}

/** Runs an async check with `inFlight` concurrent loops for `seconds` and returns checks per second. */
async function rateAsync(check: () => Promise<unknown>, inFlight: number): Promise<number> {
  await check();
  const start = performance.now();
  const end = start + seconds * 1000;
  let ops = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      await check();
      ops++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  return ops / ((performance.now() - start) / 1000);
}

// Share of one core this process got while measuring; well below 100% means another process took the core.
const cpuPercent: Record<string, number> = {};
async function measured(name: string, run: () => number | Promise<number>): Promise<number> {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const rate = await run();
  const cpu = process.cpuUsage(cpuBefore);
  cpuPercent[name] = ((cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore)) * 100;
  return rate;
}

const es256Key: KeyObject = createPublicKey(publicKeyPem);
const nodeCryptoEs256 = await measured('nodeCryptoEs256', () => rateSync(() => verify('sha256', signingInput, { key: es256Key, dsaEncoding: 'ieee-p1363' }, es256Signature)));

const cryptoKey = await importSPKI(publicKeyPem, 'ES256');
const joseEs256Sequential = await measured('joseEs256Sequential', () => rateAsync(() => jwtVerify(token, cryptoKey, { algorithms: ['ES256'] }), 1));
const joseEs256Concurrent32 = await measured('joseEs256Concurrent32', () => rateAsync(() => jwtVerify(token, cryptoKey, { algorithms: ['ES256'] }), 32));

// EdDSA for reference: the same payload signed with a fresh Ed25519 key.
const ed = generateKeyPairSync('ed25519');
const edHeader = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' })).toString('base64url');
const edInput = Buffer.from(`${edHeader}.${payloadB64}`);
const edSignature = sign(null, edInput, ed.privateKey);
const nodeCryptoEdDsa = await measured('nodeCryptoEdDsa', () => rateSync(() => verify(null, edInput, ed.publicKey, edSignature)));

process.stdout.write(`${JSON.stringify({ seconds, nodeCryptoEs256, joseEs256Sequential, joseEs256Concurrent32, nodeCryptoEdDsa, cpuPercent })}\n`);
