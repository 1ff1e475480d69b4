import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PolicyLoadError } from '../problems.js';
import { compilePolicies } from './compile-policies.js';
import { createPolicyStore, type WatchDirectory } from './policy-store.js';
import type { PolicySet } from './policy-types.js';

/** A listener that must never be called. */
const never = (what: string) => (value: unknown): void => assert.fail(`unexpected ${what}: ${String(value)}`);

const setFor = (kind: string): PolicySet => compilePolicies([{
  file: `policies/${kind}.yaml`,
  text: `apiVersion: portcullis/v1\nresourcePolicy:\n  resource: ${kind}\n  rules:\n    - name: r\n      actions: [read]\n      effect: allow\n`,
}]);

describe('policy store', () => {
  it('serves the initial set, then the reloaded one', async () => {
    const reloaded: PolicySet[] = [];
    const next = setFor('invoice');
    const store = createPolicyStore({ dir: 'policies', initial: setFor('document'), load: async () => next, onError: never('error'), onReload: (s) => reloaded.push(s) });
    assert.ok(store.current().policies.has('document'));
    assert.equal(await store.reload(), true);
    assert.equal(store.current(), next);
    assert.deepEqual(reloaded, [next]);
  });

  it('keeps the previous good set when a reload fails, and reports the error', async () => {
    const initial = setFor('document');
    const errors: unknown[] = [];
    const failure = new PolicyLoadError([{ file: 'policies/document.yaml', line: 3, col: 1, path: '', message: 'YAML: broken' }]);
    const store = createPolicyStore({ dir: 'policies', initial, load: async () => { throw failure; }, onError: (e) => errors.push(e), onReload: never('reload') });
    assert.equal(await store.reload(), false);
    assert.equal(store.current(), initial);
    assert.deepEqual(errors, [failure]);
  });

  it('installs reloads in the order they were asked for, even when an earlier load is slower', async () => {
    const sets = [setFor('first'), setFor('second')];
    const delays = [30, 0];
    let call = 0;
    const store = createPolicyStore({
      dir: 'policies',
      initial: setFor('document'),
      load: async () => {
        const i = call++;
        await sleep(delays[i]!);
        return sets[i]!;
      },
      onError: never('error'),
    });
    await Promise.all([store.reload(), store.reload()]);
    assert.equal(store.current(), sets[1]);
  });

  it('turns a burst of directory changes into one reload after a quiet period', async () => {
    let fire: () => void = () => assert.fail('not watching');
    let closed = false;
    const watchDirectory: WatchDirectory = (dir, onChange) => {
      assert.equal(dir, 'policies');
      fire = onChange;
      return { close: () => { closed = true; } };
    };
    let loads = 0;
    const store = createPolicyStore({ dir: 'policies', initial: setFor('document'), load: async () => { loads++; return setFor('invoice'); }, onError: never('error'), debounceMs: 20, watchDirectory });
    store.watch();
    store.watch();
    for (let i = 0; i < 5; i++) fire();
    await sleep(60);
    assert.equal(loads, 1);
    assert.ok(store.current().policies.has('invoice'));
    fire();
    store.close();
    await sleep(40);
    assert.equal(loads, 1, 'close cancels a pending reload');
    assert.equal(closed, true);
  });

  it('reports a directory it cannot watch instead of throwing', () => {
    const errors: unknown[] = [];
    const store = createPolicyStore({
      dir: 'missing',
      initial: setFor('document'),
      load: async () => assert.fail('no reload'),
      onError: (e) => errors.push(e),
      watchDirectory: () => { throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); },
    });
    store.watch();
    assert.equal(errors.length, 1);
  });
});
