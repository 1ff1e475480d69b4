import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import {
  createPasswordPolicy,
  loadCommonPasswords,
  normalizePassword,
  type PasswordPolicyOptions,
} from './password-policy.js';

const defaults: PasswordPolicyOptions = { minLength: 15, maxLength: 128 };
const noList: ReadonlySet<string> = new Set();
const email = 'someone@example.com';

// Fixed-width filler that matches no list entry and no email, so only the length rule speaks.
const filler = (length: number): string => 'qzj'.repeat(Math.ceil(length / 3)).slice(0, length);

describe('password length', () => {
  const policy = createPasswordPolicy({ minLength: 15, maxLength: 64 }, noList);

  it('refuses a password one code point shorter than the minimum', () => {
    const result = policy.check(filler(14), { email });
    assert.deepEqual(result.violations, ['too_short']);
    assert.deepEqual(result.messages, ['must be at least 15 characters']);
  });

  it('accepts a password exactly at the minimum', () => {
    assert.deepEqual(policy.check(filler(15), { email }).violations, []);
  });

  it('accepts a password exactly at the maximum', () => {
    assert.deepEqual(policy.check(filler(64), { email }).violations, []);
  });

  it('refuses a password one code point longer than the maximum', () => {
    const result = policy.check(filler(65), { email });
    assert.deepEqual(result.violations, ['too_long']);
    assert.deepEqual(result.messages, ['must be at most 64 characters']);
  });

  it('never truncates: a long password differing only after the maximum is still refused', () => {
    const result = policy.check(filler(64) + 'x'.repeat(10_000), { email });
    assert.deepEqual(result.violations, ['too_long']);
  });

  it('counts code points, so 15 emoji meet a minimum of 15 despite being 30 UTF-16 units', () => {
    const password = '😀'.repeat(15);
    assert.equal(password.length, 30);
    assert.deepEqual(policy.check(password, { email }).violations, []);
  });

  it('refuses 14 emoji with a minimum of 15 even though they are 28 UTF-16 units', () => {
    assert.deepEqual(policy.check('😀'.repeat(14), { email }).violations, ['too_short']);
  });

  it('counts code points against the maximum too, so 64 emoji fit a maximum of 64', () => {
    assert.deepEqual(policy.check('🔐'.repeat(64), { email }).violations, []);
    assert.deepEqual(policy.check('🔐'.repeat(65), { email }).violations, ['too_long']);
  });

  it('measures length after normalisation, so a decomposed accent counts as one character', () => {
    // 'e' + combining acute composes to 'é' under NFKC: 30 code points in, 15 out.
    const decomposed = 'e\u0301'.repeat(15);
    const strict = createPasswordPolicy({ minLength: 16, maxLength: 64 }, noList);
    assert.deepEqual(strict.check(decomposed, { email }).violations, ['too_short']);
    assert.deepEqual(policy.check(decomposed, { email }).violations, []);
  });

  it('refuses to build a policy whose minimum exceeds its maximum', () => {
    assert.throws(() => createPasswordPolicy({ minLength: 20, maxLength: 10 }, noList), RangeError);
  });
});

describe('normalisation', () => {
  it('maps fullwidth letters and digits to their ASCII forms', () => {
    assert.equal(normalizePassword('Ｐａｓｓｗｏｒｄ１'), 'Password1');
  });

  it('expands compatibility ligatures, which lengthens the password', () => {
    assert.equal(normalizePassword('\uFB03'), 'ffi');
    const policy = createPasswordPolicy(defaults, noList);
    // Five ligatures are five code points as typed but fifteen once normalised.
    assert.deepEqual(policy.check('\uFB03'.repeat(5), { email }).violations, []);
  });

  it('refuses a fullwidth spelling of a listed password', () => {
    const policy = createPasswordPolicy({ minLength: 8, maxLength: 128 }, new Set(['password1']));
    assert.deepEqual(policy.check('ｐａｓｓｗｏｒｄ１', { email }).violations, ['common']);
  });
});

describe('common and breached passwords', () => {
  const shipped = loadCommonPasswords();
  const policy = createPasswordPolicy({ minLength: 8, maxLength: 128 }, shipped);

  it('refuses a password from the shipped list whatever its case', () => {
    for (const password of ['iloveyou', 'ILOVEYOU', 'ILoveYou', 'Password1', 'QWERTYUIOP']) {
      const result = policy.check(password, { email });
      assert.deepEqual(result.violations, ['common'], password);
      assert.deepEqual(result.messages, ['is too common: it appears in lists of breached passwords']);
    }
  });

  it('reports both a short length and a listed password when both apply', () => {
    const strict = createPasswordPolicy(defaults, shipped);
    assert.deepEqual(strict.check('sunshine', { email }).violations, ['too_short', 'common']);
  });

  it('accepts a long random passphrase', () => {
    const strict = createPasswordPolicy(defaults, shipped);
    const result = strict.check('quartz lantern meadow gravel otter', { email });
    assert.deepEqual(result, { violations: [], messages: [] });
  });

  it('has no composition rules: an all-lowercase passphrase without digits or symbols passes', () => {
    const strict = createPasswordPolicy(defaults, shipped);
    assert.deepEqual(strict.check('the walrus prefers cold tea at noon', { email }).violations, []);
  });

  it('has no composition rules: a long run of digits only passes', () => {
    const strict = createPasswordPolicy(defaults, shipped);
    assert.deepEqual(strict.check('8302957164039281', { email }).violations, []);
  });
});

describe('email local part', () => {
  const policy = createPasswordPolicy(defaults, noList);

  it('refuses a password containing the email local part', () => {
    const result = policy.check('my name is alice and I like tea', { email: 'alice@example.com' });
    assert.deepEqual(result.violations, ['contains_email']);
    assert.deepEqual(result.messages, ['must not contain the email address']);
  });

  it('matches the local part case-insensitively on both sides', () => {
    const result = policy.check('hello ALICE.SMITH good day', { email: 'Alice.Smith@Example.COM' });
    assert.deepEqual(result.violations, ['contains_email']);
  });

  it('ignores a +tag suffix, matching the mailbox name alone', () => {
    const context = { email: 'alice+shopping@example.com' };
    assert.deepEqual(policy.check('my name is alice and I like tea', context).violations, ['contains_email']);
    assert.deepEqual(policy.check('I go shopping for tea on sundays', context).violations, []);
  });

  it('uses the part before the last @ as the local part', () => {
    const result = policy.check('a long passphrase with "bob@home" inside', { email: '"bob@home"@example.com' });
    assert.deepEqual(result.violations, ['contains_email']);
  });

  it('ignores a local part shorter than three code points', () => {
    assert.deepEqual(policy.check('always alert and calm as ever', { email: 'al@example.com' }).violations, []);
  });

  it('applies the rule to a local part of exactly three code points', () => {
    const result = policy.check('a bobcat crossed the frozen river', { email: 'bob@example.com' });
    assert.deepEqual(result.violations, ['contains_email']);
  });

  it('never echoes the password in any message', () => {
    const password = 'alice';
    const strict = createPasswordPolicy(defaults, new Set([password]));
    const result = strict.check(password, { email: 'alice@example.com' });
    assert.deepEqual(result.violations, ['too_short', 'common', 'contains_email']);
    for (const message of result.messages) assert.ok(!message.includes(password), message);
  });
});

describe('too long passwords', () => {
  it('skip every other check and report only too_long', () => {
    const huge = 'alice'.repeat(100);
    const policy = createPasswordPolicy(defaults, new Set([huge]));
    const result = policy.check(huge, { email: 'alice@example.com' });
    assert.deepEqual(result, { violations: ['too_long'], messages: ['must be at most 128 characters'] });
  });
});

describe('loadCommonPasswords', () => {
  const list = loadCommonPasswords();

  it('returns more than 5,000 lowercase entries, none shorter than 8 code points', () => {
    assert.ok(list.size > 5_000, `only ${list.size} entries`);
    for (const entry of list) {
      assert.ok([...entry].length >= 8, entry);
      assert.equal(entry, entry.toLowerCase());
    }
  });

  it('contains well-known breached passwords', () => {
    for (const entry of ['password1', 'iloveyou', 'sunshine', 'qwertyuiop', '1qaz2wsx3edc4rfv']) {
      assert.ok(list.has(entry), entry);
    }
  });

  it('reads the file once and hands back the same set on later calls', () => {
    assert.equal(loadCommonPasswords(), list);
  });

  it('ships the file sorted, deduplicated and already NFKC-normalised', () => {
    const text = readFileSync(new URL('../data/common-passwords.txt', import.meta.url), 'utf8');
    const lines = text.split('\n').filter((line) => line !== '');
    assert.equal(lines.length, list.size);
    assert.deepEqual(lines, [...lines].sort());
    for (const line of lines) assert.equal(line, normalizePassword(line));
  });
});
