import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../fixtures/server-process.js';

describe('portcullis policy test', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-policy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes on the shipped policies', async () => {
    const res = await runCli(['policy', 'test'], {});
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /\d+ passed, 0 failed/);
  });

  it('exits 1 and names the failing case when a policy grants too much', async () => {
    cpSync('policies', dir, { recursive: true });
    const file = join(dir, 'portcullis-admin-user.yaml');
    // Let analysts change roles too: the shipped tests must catch the escalation.
    const original = readFileSync(file, 'utf8');
    const widened = original.replace('actions: [list, read]\n      effect: allow\n      roles: [security-analyst]', 'actions: [list, read, update-roles]\n      effect: allow\n      roles: [security-analyst]');
    assert.notEqual(widened, original, 'the test edits the analysts rule');
    writeFileSync(file, widened);
    const res = await runCli(['policy', 'test', dir], {});
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stdout, /[1-9]\d* failed/);
    assert.match(res.stdout, /update-roles/);
  });

  it('exits 78 with the file and place of an invalid policy', async () => {
    writeFileSync(join(dir, 'broken.yaml'), 'apiVersion: portcullis/v1\nresourcePolicy:\n  resource: doc\n  version: default\n  rules:\n    - name: r\n      actions: [read]\n      effect: allow\n      condition: "principal.id =="\n');
    const res = await runCli(['policy', 'test', dir], {});
    assert.equal(res.code, 78);
    assert.match(res.stderr, /broken\.yaml:\d+:\d+: resourcePolicy\.rules\[0\]\.condition/);
  });
});
