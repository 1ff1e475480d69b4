import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseMasterKey, resolveMasterKey } from './master-key.js';

function memoryFs(initial: Record<string, string> = {}) {
  const files = new Map(Object.entries(initial));
  const modes = new Map<string, number>();
  return {
    files, modes,
    readFile: (path: string) => files.get(path),
    writeFileExclusive: (path: string, content: string, mode: number) => {
      if (files.has(path)) throw new Error('EEXIST');
      files.set(path, content);
      modes.set(path, mode);
    },
  };
}

describe('master key', () => {
  it('accepts 32 random bytes in base64', () => {
    const key = randomBytes(32);
    assert.deepEqual(parseMasterKey(key.toString('base64')), key);
  });

  it('refuses short, non-base64 and patterned keys', () => {
    for (const bad of [randomBytes(16).toString('base64'), 'not base64!!', Buffer.alloc(32, 'a').toString('base64'), Buffer.from(Array.from({ length: 32 }, (_, i) => i % 4)).toString('base64')]) {
      assert.throws(() => parseMasterKey(bad), /master key/);
    }
  });

  it('is required in production', () => {
    assert.throws(() => resolveMasterKey({ configured: undefined, production: true, dataDir: '/d' }, memoryFs()), /required when NODE_ENV=production/);
  });

  it('refuses a weak configured key in production', () => {
    assert.throws(() => resolveMasterKey({ configured: Buffer.alloc(32).toString('base64'), production: true, dataDir: '/d' }, memoryFs()), /weak/);
  });

  it('generates a development key once, mode 0600, with a warning, and reuses it', () => {
    const fs = memoryFs();
    const first = resolveMasterKey({ configured: undefined, production: false, dataDir: '/d' }, fs);
    assert.match(first.warning ?? '', /generated a development master key/);
    assert.equal(fs.modes.get('/d/master.key'), 0o600);
    const second = resolveMasterKey({ configured: undefined, production: false, dataDir: '/d' }, fs);
    assert.deepEqual(second.key, first.key);
    assert.equal(second.warning, undefined);
  });
});
