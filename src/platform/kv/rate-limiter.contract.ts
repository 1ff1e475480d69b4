/**
 * The behaviour every RateLimiter adapter owes its callers (login throttling, gateway limits),
 * run unchanged against the in-process and the Redis adapters. Each test uses its own random
 * keyPrefix, so tests never see each other's counts; windows are long (60 s) so no test races
 * a window boundary, and none waits for one.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { RateLimiter, RateLimiterFactory } from './rate-limiter.js';

/** The adapter under test. */
export interface RateLimiterContractTarget {
  /** Creates limiters; called per test, after the suite's `before` hooks. */
  factory(): RateLimiterFactory;
  /** Limiters over the same store through another connection (another instance); absent for in-process adapters. */
  secondFactory?: () => RateLimiterFactory;
}

/** Keys a caller may legitimately pass (client IPs, emails, ids); each must count on its own. */
const AWKWARD_KEYS = ['', ' ', '203.0.113.7', '2001:db8::1', 'user@example.com', 'ünïcødé 🔑', 'line\nbreak', 'k'.repeat(500)];
const WINDOW_SECONDS = 60;

function uniquePrefix(label: string): string {
  return `contract-${label}-${randomBytes(6).toString('hex')}`;
}

/** Registers the RateLimiter contract tests (node:test) for one adapter under `name`. */
export function rateLimiterContract(name: string, target: RateLimiterContractTarget): void {
  const limiter = (label: string, points: number, durationSeconds = WINDOW_SECONDS): RateLimiter =>
    target.factory()({ keyPrefix: uniquePrefix(label), points, durationSeconds });

  describe(`RateLimiter contract: ${name}`, () => {
    it('counts each consume and reports the points that remain, then limits the call past `points`', async () => {
      const rl = limiter('count', 3);
      assert.equal(rl.points, 3);
      assert.equal(rl.durationSeconds, WINDOW_SECONDS);
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await rl.consume('k'));
      assert.deepEqual(results.map(({ consumed, remaining, limited }) => ({ consumed, remaining, limited })), [
        { consumed: 1, remaining: 2, limited: false },
        { consumed: 2, remaining: 1, limited: false },
        { consumed: 3, remaining: 0, limited: false },
        { consumed: 4, remaining: 0, limited: true },
      ]);
    });

    it('counts a weighted consume as that many points', async () => {
      const rl = limiter('weight', 3);
      const first = await rl.consume('k', 2);
      assert.deepEqual([first.consumed, first.remaining, first.limited], [2, 1, false]);
      const second = await rl.consume('k', 2);
      assert.deepEqual([second.consumed, second.remaining, second.limited], [4, 0, true]);
    });

    it('reports msBeforeNext inside the current window, for allowed and limited calls alike', async () => {
      const rl = limiter('window', 1);
      for (const state of [await rl.consume('k'), await rl.consume('k')]) {
        assert.ok(state.msBeforeNext > 0 && state.msBeforeNext <= WINDOW_SECONDS * 1_000, String(state.msBeforeNext));
      }
    });

    it('reads a key with get without counting, and reports an unknown key as undefined', async () => {
      const rl = limiter('get', 5);
      assert.equal(await rl.get('k'), undefined);
      await rl.consume('k', 2);
      for (let i = 0; i < 3; i++) {
        const state = await rl.get('k');
        assert.deepEqual([state?.consumed, state?.remaining, state?.limited], [2, 3, false]);
        assert.ok(state && state.msBeforeNext > 0 && state.msBeforeNext <= WINDOW_SECONDS * 1_000);
      }
      assert.equal((await rl.consume('k')).consumed, 3);
    });

    it('limits a blocked key for the requested seconds, beyond the window, whatever its count', async () => {
      const rl = limiter('block', 5);
      await rl.block('blocked', 120);
      const read = await rl.get('blocked');
      assert.equal(read?.limited, true);
      assert.equal(read?.remaining, 0);
      assert.ok(read && read.msBeforeNext > 110_000 && read.msBeforeNext <= 120_000, String(read?.msBeforeNext));
      const consumed = await rl.consume('blocked');
      assert.equal(consumed.limited, true);
      assert.equal((await rl.consume('other')).limited, false);
    });

    it('forgets a key on delete: a limited or blocked key starts again from one', async () => {
      const rl = limiter('delete', 2);
      for (let i = 0; i < 3; i++) await rl.consume('limited');
      await rl.block('blocked', 120);
      for (const key of ['limited', 'blocked']) {
        await rl.delete(key);
        assert.equal(await rl.get(key), undefined);
        const state = await rl.consume(key);
        assert.deepEqual([state.consumed, state.limited], [1, false]);
      }
      await rl.delete('never-seen');
    });

    it('keeps keys apart, and limiters with different keyPrefixes apart', async () => {
      const factory = target.factory();
      const shared = uniquePrefix('iso');
      const one = factory({ keyPrefix: `${shared}-one`, points: 1, durationSeconds: WINDOW_SECONDS });
      const two = factory({ keyPrefix: `${shared}-two`, points: 1, durationSeconds: WINDOW_SECONDS });
      await one.consume('k');
      assert.equal((await one.consume('k')).limited, true);
      assert.equal((await two.consume('k')).limited, false);
      for (const key of AWKWARD_KEYS) {
        const state = await one.consume(key);
        assert.deepEqual([state.consumed, state.limited], [1, false], JSON.stringify(key.slice(0, 20)));
      }
    });

    it('gives exactly `points` allowed results to 100 concurrent consumes, across instances when there are two', async () => {
      const keyPrefix = uniquePrefix('race');
      const options = { keyPrefix, points: 10, durationSeconds: WINDOW_SECONDS };
      const instances = [target.factory()(options)];
      if (target.secondFactory) instances.push(target.secondFactory()(options));
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (instances[i % instances.length] as RateLimiter).consume('hot')));
      assert.equal(results.filter((state) => !state.limited).length, 10);
      // Every call counted exactly once: the counts seen are 1..100, each once.
      assert.deepEqual(results.map((state) => state.consumed).sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i + 1));
      assert.equal((await instances[0]?.get('hot'))?.consumed, 100);
    });
  });
}
