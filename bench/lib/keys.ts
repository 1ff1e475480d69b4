// The Express peer's ES256 key pair and token, made in the runner.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';

/** An ES256 public key on disk and one token it verifies. */
export interface PeerCredentials { publicKeyFile: string; token: string }

/** Generates a P-256 key pair, writes the SPKI PEM to `dir`, and signs one ES256 token shaped like Portcullis's. */
export function makePeerCredentials(dir: string): PeerCredentials {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyFile = join(dir, 'peer-public.pem');
  writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  const token = jwt.sign(
    { sid: 'bench-session', roles: ['user'] },
    privateKey.export({ type: 'pkcs8', format: 'pem' }),
    { algorithm: 'ES256', subject: 'bench-user', expiresIn: '1h', issuer: 'http://127.0.0.1', audience: 'portcullis', jwtid: 'bench-jti' },
  );
  return { publicKeyFile, token };
}
