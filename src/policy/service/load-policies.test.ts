import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPolicyProblem, PolicyLoadError } from '../problems.js';
import { loadPolicies, type PolicyFs } from './load-policies.js';

const policy = (kind: string) => `apiVersion: portcullis/v1\nresourcePolicy:\n  resource: ${kind}\n  rules:\n    - name: all-read\n      actions: [read]\n      effect: allow\n`;

/** An in-memory directory tree keyed by path. */
function memoryFs(files: Record<string, string>): PolicyFs & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async readdir(dir) {
      const prefix = `${dir}/`;
      const names = Object.keys(files).filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length).split('/')[0]!);
      if (names.length === 0) throw Object.assign(new Error(`ENOENT: no such file or directory, scandir '${dir}'`), { code: 'ENOENT' });
      return [...new Set(names)];
    },
    async readFile(path) {
      reads.push(path);
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read`), { code: 'EISDIR' });
      return text;
    },
  };
}

describe('loadPolicies', () => {
  it('loads the .yaml and .yml files directly in the directory, skipping tests, other files and editor leftovers', async () => {
    const fs = memoryFs({
      'policies/document.yaml': policy('document'),
      'policies/invoice.yml': policy('invoice'),
      'policies/README.md': '# not a policy',
      'policies/.#document.yaml': 'lock file',
      'policies/tests/document.test.yaml': 'name: not a policy',
    });
    const set = await loadPolicies('policies', fs);
    assert.deepEqual([...set.policies.keys()].sort(), ['document', 'invoice']);
    assert.deepEqual(set.files, ['policies/document.yaml', 'policies/invoice.yml']);
    assert.deepEqual(fs.reads.sort(), ['policies/document.yaml', 'policies/invoice.yml']);
  });

  it('reports a directory it cannot read as a load error, not a crash', async () => {
    await assert.rejects(loadPolicies('nowhere', memoryFs({})), (error: unknown) => {
      assert.ok(error instanceof PolicyLoadError);
      assert.deepEqual(error.problems.map(formatPolicyProblem), ['nowhere: cannot read the directory: ENOENT']);
      return true;
    });
  });

  it('reports problems of every file together, in file order', async () => {
    const fs = memoryFs({
      'policies/b.yaml': policy('b').replace('effect: allow', 'effect: maybe'),
      'policies/a.yaml': 'apiVersion: portcullis/v1\nresourcePolicy: [\n',
    });
    await assert.rejects(loadPolicies('policies', fs), (error: unknown) => {
      assert.ok(error instanceof PolicyLoadError);
      assert.deepEqual(error.problems.map(formatPolicyProblem), [
        'policies/a.yaml:3:1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
        'policies/b.yaml:7:15: resourcePolicy.rules[0].effect: Invalid option: expected one of "allow"|"deny"',
      ]);
      return true;
    });
  });

  it('reports a file it cannot read with the reason', async () => {
    const fs = memoryFs({ 'policies/a.yaml': policy('a'), 'policies/c.yaml/x': 'a directory named like a policy file' });
    await assert.rejects(loadPolicies('policies', fs), (error: unknown) => {
      assert.ok(error instanceof PolicyLoadError);
      assert.deepEqual(error.problems.map(formatPolicyProblem), ['policies/c.yaml: cannot read the file: EISDIR']);
      return true;
    });
  });
});
