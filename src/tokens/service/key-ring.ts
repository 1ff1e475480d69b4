import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { SecretBox } from '../../platform/secret-box.js';
import type { SigningKeyRecord, SigningKeyStore } from '../store/signing-key-store.js';

/** Asymmetric algorithms we sign with; HMAC is never accepted for access tokens. */
export type SigningAlgorithm = 'ES256' | 'EdDSA' | 'RS256';

/** A usable key with its lifecycle state at the time of the last refresh. */
export interface RingKey {
  kid: string;
  alg: SigningAlgorithm;
  publicJwk: JWK;
  publicKey: CryptoKey;
  activatesAtMs: number;
  /** When a newer key took over signing; undefined while this key signs or is pending. */
  retiredAtMs: number | undefined;
}

/** Key-ring settings from config.tokens. */
export interface KeyRingOptions {
  algorithm: SigningAlgorithm;
  accessTtlSeconds: number;
  clockSkewSeconds: number;
  keyActivationDelaySeconds: number;
  keyRotationIntervalDays: number;
}

/** Dependencies of the key ring. */
export interface KeyRingDeps { store: SigningKeyStore; secretBox: SecretBox; clock: Clock; ids: IdGenerator; options: KeyRingOptions }

/** The signing and verification keys of this instance, refreshed from the shared store. */
export interface KeyRing {
  /** Reloads from the store; creates the first key, or rotates when the interval has passed. */
  refresh(): Promise<void>;
  /** The key to sign with now, with its private key. */
  signingKey(): Promise<{ kid: string; alg: SigningAlgorithm; privateKey: CryptoKey }>;
  /** A published key by kid, undefined when unknown or no longer published. */
  verificationKey(kid: string): RingKey | undefined;
  /** Algorithms of the published keys (the verification allow-list). */
  algorithms(): SigningAlgorithm[];
  /** Every key that may still verify a live token, plus keys published ahead of activation. */
  publishedKeys(): RingKey[];
  /** Adds a new key: it is published at once and signs after the activation delay (or at once when `immediate`). */
  rotate(options?: { immediate?: boolean }): Promise<{ kid: string; activatesAt: Date }>;
  /** Called after each refresh that changed the published set. */
  onChange(listener: () => void): void;
}

/**
 * The stored private key does not open under this instance's master key: the key differs from the
 * one that sealed it (another PORTCULLIS_MASTER_KEY, or a generated dev key in another data
 * directory) or the row was altered. Raised at start so the server refuses to run instead of
 * answering 500 at the first login.
 */
export class SigningKeyUnreadableError extends Error {
  constructor(readonly kid: string, options?: { cause: unknown }) {
    super(
      `the master key does not open the stored signing key ${kid}: every instance must use the master key `
      + 'that created the key ring (PORTCULLIS_MASTER_KEY / PORTCULLIS_MASTER_KEY_FILE, or the key file in the data directory)',
      options,
    );
    this.name = 'SigningKeyUnreadableError';
  }
}

const SIGNING_ALGORITHMS = new Set<string>(['ES256', 'EdDSA', 'RS256']);

/**
 * Key lifecycle: published at creation, signs from `activatesAt` until a newer key activates,
 * then stays published for one access-token lifetime plus skew so tokens it signed still verify.
 */
export function createKeyRing(deps: KeyRingDeps): KeyRing {
  const { store, secretBox, clock, ids, options } = deps;
  let records: SigningKeyRecord[] = [];
  let published: RingKey[] = [];
  let byKid = new Map<string, RingKey>();
  // Derived once per load: the verifier reads it on every uncached verification.
  let publishedAlgorithms: SigningAlgorithm[] = [];
  const privateKeys = new Map<string, Promise<CryptoKey>>();
  const listeners: Array<() => void> = [];
  const graceMs = (options.accessTtlSeconds + options.clockSkewSeconds) * 1000;

  async function newRecord(activatesAtMs: number): Promise<SigningKeyRecord> {
    const kid = ids.next();
    const { publicKey, privateKey } = await generateKeyPair(options.algorithm, { extractable: true, ...(options.algorithm === 'RS256' ? { modulusLength: 2048 } : {}) });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: options.algorithm, use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: options.algorithm };
    return {
      kid, alg: options.algorithm, publicJwk, privateJwkSealed: secretBox.seal(JSON.stringify(privateJwk), `signing-key:${kid}`),
      createdAt: new Date(clock.nowMs()), activatesAt: new Date(activatesAtMs),
    };
  }

  function signingRecord(now: number): SigningKeyRecord | undefined {
    let current: SigningKeyRecord | undefined;
    for (const r of records) if (r.activatesAt.getTime() <= now) current = r;
    return current;
  }

  async function load(): Promise<void> {
    records = (await store.list()).filter((r) => SIGNING_ALGORITHMS.has(r.alg));
    const now = clock.nowMs();
    const next: RingKey[] = [];
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const successor = records.slice(i + 1).find((s) => s.activatesAt.getTime() <= now);
      const retiredAtMs = successor?.activatesAt.getTime();
      if (retiredAtMs !== undefined && retiredAtMs + graceMs <= now) continue;
      const existing = byKid.get(r.kid);
      const publicKey = existing?.publicKey ?? ((await importJWK(r.publicJwk as JWK, r.alg)) as CryptoKey);
      next.push({ kid: r.kid, alg: r.alg as SigningAlgorithm, publicJwk: r.publicJwk as JWK, publicKey, activatesAtMs: r.activatesAt.getTime(), retiredAtMs });
    }
    const changed = next.map((k) => k.kid).join() !== published.map((k) => k.kid).join();
    published = next;
    byKid = new Map(next.map((k) => [k.kid, k]));
    publishedAlgorithms = [...new Set(next.map((k) => k.alg))];
    if (changed) for (const listener of listeners) listener();
  }

  async function rotate(rotateOptions: { immediate?: boolean } = {}) {
    const now = clock.nowMs();
    const activatesAtMs = rotateOptions.immediate ? now : now + options.keyActivationDelaySeconds * 1000;
    const inserted = await store.rotateLocked(async (current) => {
      // Another instance may have rotated while we waited for the lock: one pending key is enough.
      const pending = current.find((r) => r.activatesAt.getTime() > now);
      if (pending && !rotateOptions.immediate) return undefined;
      return newRecord(activatesAtMs);
    });
    await load();
    const latest = inserted ?? records[records.length - 1]!;
    return { kid: latest.kid, activatesAt: latest.activatesAt };
  }

  return {
    async refresh() {
      await load();
      const now = clock.nowMs();
      const current = signingRecord(now);
      if (!current) {
        await store.rotateLocked(async (existing) => (existing.some((r) => r.activatesAt.getTime() <= now) ? undefined : newRecord(now)));
        await load();
        return;
      }
      const intervalMs = options.keyRotationIntervalDays * 86_400_000;
      const newest = records[records.length - 1]!;
      if (intervalMs > 0 && newest.activatesAt.getTime() <= now && current.activatesAt.getTime() + intervalMs <= now + options.keyActivationDelaySeconds * 1000) {
        await rotate();
      }
    },
    async signingKey() {
      const record = signingRecord(clock.nowMs());
      if (!record) throw new Error('no active signing key: call refresh() first');
      let key = privateKeys.get(record.kid);
      if (!key) {
        let jwk: JWK;
        try {
          jwk = JSON.parse(secretBox.open(record.privateJwkSealed, `signing-key:${record.kid}`)) as JWK;
        } catch (error) {
          throw new SigningKeyUnreadableError(record.kid, { cause: error });
        }
        key = importJWK(jwk, record.alg) as Promise<CryptoKey>;
        privateKeys.set(record.kid, key);
      }
      return { kid: record.kid, alg: record.alg as SigningAlgorithm, privateKey: await key };
    },
    verificationKey: (kid) => byKid.get(kid),
    algorithms: () => publishedAlgorithms,
    publishedKeys: () => published,
    rotate,
    onChange: (listener) => { listeners.push(listener); },
  };
}
