import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, configLeaves, loadConfig } from './load.js';

const noFiles = (path: string): string => { throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' }); };

describe('loadConfig', () => {
  it('applies the documented defaults when nothing is set', () => {
    const config = loadConfig({ argv: [], env: {}, readFile: noFiles });
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8080);
    assert.equal(config.dataDir, './data');
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.audience, 'portcullis');
    assert.equal(config.logLevel, 'info');
    assert.equal(config.tokens.algorithm, 'ES256');
    assert.equal(config.tokens.accessTtlSeconds, 600);
    assert.equal(config.http.bodyLimitBytes, 65_536);
    assert.equal(config.password.minLength, 15);
    assert.equal(config.password.maxLength, 128);
  });

  it('reads the fixed environment names of DESIGN.md', () => {
    const config = loadConfig({
      argv: [],
      env: {
        PORTCULLIS_HOST: '0.0.0.0', PORTCULLIS_PORT: '9000', PORTCULLIS_DATA_DIR: '/var/lib/p', DATABASE_URL: 'postgres://u@db:5432/p',
        REDIS_URL: 'redis://r:6379', PORTCULLIS_ISSUER: 'https://auth.example.com', PORTCULLIS_AUDIENCE: 'api', PORTCULLIS_LOG_LEVEL: 'debug',
      },
      readFile: noFiles,
    });
    assert.deepEqual(
      [config.host, config.port, config.dataDir, config.databaseUrl, config.redisUrl, config.issuer, config.audience, config.logLevel],
      ['0.0.0.0', 9000, '/var/lib/p', 'postgres://u@db:5432/p', 'redis://r:6379', 'https://auth.example.com', 'api', 'debug'],
    );
  });

  it('layers defaults < YAML file < environment', () => {
    const file = 'port: 7000\nhost: 10.0.0.5\ntokens:\n  accessTtlSeconds: 300\n  algorithm: EdDSA\n';
    const config = loadConfig({ argv: ['serve', '--config', 'p.yaml'], env: { PORTCULLIS_PORT: '7100' }, readFile: (p) => (p === 'p.yaml' ? file : noFiles(p)) });
    assert.equal(config.port, 7100, 'env beats file');
    assert.equal(config.host, '10.0.0.5', 'file beats default');
    assert.equal(config.tokens.accessTtlSeconds, 300);
    assert.equal(config.tokens.algorithm, 'EdDSA');
    assert.equal(config.tokens.clockSkewSeconds, 30, 'untouched nested defaults survive');
  });

  it('maps nested keys to PORTCULLIS_SECTION__KEY names and coerces their types', () => {
    const config = loadConfig({
      argv: [],
      env: { PORTCULLIS_HTTP__CORS_ORIGINS: 'https://a.example, https://b.example', PORTCULLIS_PASSWORD__MFA_ENFORCED: 'true', PORTCULLIS_PASSWORD__MIN_LENGTH: '8', PORTCULLIS_HTTP__TRUST_PROXY: '1' },
      readFile: noFiles,
    });
    assert.deepEqual(config.http.corsOrigins, ['https://a.example', 'https://b.example']);
    assert.equal(config.password.mfaEnforced, true);
    assert.equal(config.password.minLength, 8);
    assert.equal(config.http.trustProxy, 1);
    assert.ok(configLeaves.some((l) => l.env === 'PORTCULLIS_LOGIN_PROTECTION__MAX_CONSECUTIVE_FAILURES'));
  });

  it('reads secrets from NAME_FILE', () => {
    const config = loadConfig({ argv: [], env: { PORTCULLIS_MASTER_KEY_FILE: '/run/secrets/mk' }, readFile: (p) => (p === '/run/secrets/mk' ? 'c2VjcmV0\n' : noFiles(p)) });
    assert.equal(config.masterKey, 'c2VjcmV0');
  });

  it('names every bad key in one error, with its environment variable', () => {
    try {
      loadConfig({
        argv: [],
        env: { PORTCULLIS_PORT: 'eighty', PORTCULLIS_LOG_LEVEL: 'loud', PORTCULLIS_TOKENS__ALGORITHM: 'HS256', PORTCULLIS_MASTER_KEY_FILE: '/missing' },
        readFile: noFiles,
      });
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      const text = error.message;
      for (const needle of ['port (PORTCULLIS_PORT)', 'logLevel (PORTCULLIS_LOG_LEVEL)', 'tokens.algorithm (PORTCULLIS_TOKENS__ALGORITHM)', 'PORTCULLIS_MASTER_KEY_FILE: cannot read /missing']) {
        assert.ok(text.includes(needle), `message names ${needle}:\n${text}`);
      }
      assert.equal(error.problems.length, 4);
    }
  });

  it('refuses unknown keys in the file and a password minimum below 15 without MFA', () => {
    assert.throws(
      () => loadConfig({ argv: ['--config=c.yaml'], env: {}, readFile: () => 'prot: 1\npassword:\n  minLength: 8\n' }),
      (error: unknown) => error instanceof ConfigError && error.problems.some((p) => p.startsWith('prot: unknown key')) && error.problems.some((p) => p.startsWith('password.minLength')),
    );
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig({ argv: [], env: {}, readFile: noFiles });
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.tokens) && Object.isFrozen(config.http.corsOrigins));
  });

  it('refuses a __proto__ key in the file as unknown, without polluting any prototype', () => {
    assert.throws(
      () => loadConfig({ argv: ['--config', 'c.yaml'], env: {}, readFile: () => '__proto__:\n  polluted: true\n' }),
      (error: unknown) => error instanceof ConfigError && error.problems.some((p) => p.includes('__proto__')),
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('accepts the Sentinel and Cluster URL forms, and names a bad REDIS_URL without repeating its password', () => {
    for (const url of ['redis+sentinel://:pw@s1:26379,s2:26379/mymaster/0?sentinelPassword=pw', 'rediss+cluster://:pw@n1:7000,n2:7001']) {
      assert.equal(loadConfig({ argv: [], env: { REDIS_URL: url }, readFile: noFiles }).redisUrl, url);
    }
    for (const url of ['http://:hunter2@cache:6379', 'redis+sentinel://:hunter2@s1:26379', 'redis+cluster://:hunter2@n1:7000/1']) {
      assert.throws(() => loadConfig({ argv: [], env: { REDIS_URL: url }, readFile: noFiles }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 1, error.message);
        assert.match(error.problems[0]!, /^redisUrl \(REDIS_URL\): /);
        assert.ok(!error.message.includes('hunter2'), error.message);
        return true;
      }, url);
    }
  });

  it('publishes a JSON Schema whose redisUrl pattern takes the schemes Zod takes, in any case (editors agree with the server)', () => {
    const schema = JSON.parse(readFileSync(new URL('../../../config.schema.json', import.meta.url), 'utf8')) as { properties: { redisUrl: { pattern: string } } };
    const pattern = new RegExp(schema.properties.redisUrl.pattern);
    for (const url of ['redis://cache:6379', 'REDISS://cache:6380', 'Redis+Sentinel://s1:26379/mymaster', 'rediss+CLUSTER://n1:7000', 'http://cache:6379', 'redis+shard://n1']) {
      let zodAccepts = true;
      try {
        loadConfig({ argv: [], env: { REDIS_URL: url }, readFile: noFiles });
      } catch {
        zodAccepts = false;
      }
      assert.equal(pattern.test(url), zodAccepts, url);
    }
  });
});
