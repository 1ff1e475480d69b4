import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createArgon2WorkerPool } from './argon2-worker-pool.js';

// Cheap parameters: these tests are about the pool, not about argon2's cost.
const CHEAP = { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 } as const;

/** Nice value of one of this process's threads, from /proc (Linux). */
function threadNice(tid: string | number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  // Fields after the parenthesised name: state is field 3, nice is field 19.
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** Nice values of every thread of this process. */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map(threadNice);
}

describe('argon2 worker pool', () => {
  it('hashes and verifies: the right password matches, a wrong one does not', async () => {
    const pool = createArgon2WorkerPool({ size: 1, nice: 10 });
    try {
      const hash = await pool.hash('violet kettle drums at midnight', CHEAP);
      assert.match(hash, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
      assert.equal(await pool.verify(hash, 'violet kettle drums at midnight'), true);
      assert.equal(await pool.verify(hash, 'violet kettle drums at midnighT'), false);
    } finally {
      await pool.close();
    }
  });

  it('queues more jobs than threads and answers each with its own result', async () => {
    const pool = createArgon2WorkerPool({ size: 2, nice: 10 });
    try {
      const passwords = Array.from({ length: 9 }, (_, i) => `password number ${i} of nine`);
      const hashes = await Promise.all(passwords.map((p) => pool.hash(p, CHEAP)));
      assert.equal(new Set(hashes).size, 9);
      const checks = await Promise.all(hashes.map((h, i) => pool.verify(h, passwords[(i + 1) % 9]!)));
      assert.deepEqual(checks, Array(9).fill(false));
      assert.deepEqual(await Promise.all(hashes.map((h, i) => pool.verify(h, passwords[i]!))), Array(9).fill(true));
    } finally {
      await pool.close();
    }
  });

  it('rejects a malformed stored hash without losing the thread', async () => {
    const pool = createArgon2WorkerPool({ size: 1, nice: 10 });
    try {
      await assert.rejects(pool.verify('$argon2id$not-a-hash', 'whatever'), /^Error: argon2: /);
      const hash = await pool.hash('still working afterwards', CHEAP);
      assert.equal(await pool.verify(hash, 'still working afterwards'), true);
    } finally {
      await pool.close();
    }
  });

  it('runs its threads at the lower priority, leaving the event loop thread at its own', { skip: process.platform !== 'linux' && 'per-thread nice values are a Linux property' }, async () => {
    const mainBefore = threadNice(process.pid);
    // The runner may itself be niced; the pool asks for a value above it.
    const nice = Math.min(19, mainBefore + 10);
    assert.ok(nice > mainBefore, 'the test runner is already at the lowest priority');
    const before = threadNiceValues().filter((n) => n === nice).length;
    const pool = createArgon2WorkerPool({ size: 2, nice });
    try {
      await Promise.all([pool.hash('warm the first thread', CHEAP), pool.hash('warm the second thread', CHEAP)]);
      assert.equal(threadNiceValues().filter((n) => n === nice).length - before, 2, 'both hashing threads run at the lower priority');
      assert.equal(threadNice(process.pid), mainBefore, 'the event loop thread keeps its priority');
    } finally {
      await pool.close();
    }
  });

  it('close rejects queued jobs and refuses new ones', async () => {
    const pool = createArgon2WorkerPool({ size: 1, nice: 10 });
    const jobs = Array.from({ length: 4 }, (_, i) => pool.hash(`queued password ${i}`, CHEAP).then(() => 'done', (e: Error) => e.message));
    await pool.close();
    const outcomes = await Promise.all(jobs);
    assert.ok(outcomes.every((o) => o === 'done' || o === 'the argon2 worker pool is closed'), outcomes.join());
    assert.ok(outcomes.includes('the argon2 worker pool is closed'));
    await assert.rejects(pool.hash('after close', CHEAP), /closed/);
  });
});
