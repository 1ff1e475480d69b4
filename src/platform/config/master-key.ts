import { randomBytes } from 'node:crypto';

/** What resolving the master key needs from the file system (injected for tests). */
export interface MasterKeyFs {
  readFile(path: string): string | undefined;
  writeFileExclusive(path: string, content: string, mode: number): void;
}

/** The outcome: the key, and a warning to log when one was generated. */
export interface ResolvedMasterKey { key: Buffer; warning?: string }

/** Decodes a base64 master key and refuses one that is short or visibly not random. */
export function parseMasterKey(encoded: string): Buffer {
  const trimmed = encoded.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) throw new Error('master key is not base64');
  const key = Buffer.from(trimmed.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
  if (key.length !== 32) throw new Error(`master key must decode to 32 bytes, got ${key.length}`);
  // 32 random bytes have ~28 distinct values; fewer than 16 means a pattern like "aaaa..." or a counter.
  if (new Set(key).size < 16) throw new Error('master key is weak: use 32 random bytes (openssl rand -base64 32)');
  return key;
}

/**
 * Returns the configured master key; in development, generates one into the data
 * directory (mode 0600) and warns. Production without a strong key is an error.
 */
export function resolveMasterKey(options: { configured: string | undefined; production: boolean; dataDir: string }, fs: MasterKeyFs): ResolvedMasterKey {
  if (options.configured !== undefined) return { key: parseMasterKey(options.configured) };
  if (options.production) throw new Error('PORTCULLIS_MASTER_KEY (or PORTCULLIS_MASTER_KEY_FILE) is required when NODE_ENV=production');
  const path = `${options.dataDir}/master.key`;
  const existing = fs.readFile(path);
  if (existing !== undefined) return { key: parseMasterKey(existing) };
  const generated = randomBytes(32).toString('base64');
  fs.writeFileExclusive(path, `${generated}\n`, 0o600);
  return { key: parseMasterKey(generated), warning: `generated a development master key at ${path}; set PORTCULLIS_MASTER_KEY in production` };
}
