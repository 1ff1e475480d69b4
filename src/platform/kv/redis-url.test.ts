import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRedisUrl, RedisUrlError, redisUrlProblem } from './redis-url.js';

const SECRET = 'hunter2-s3cret';

describe('parseRedisUrl', () => {
  it('hands a single-node URL to ioredis as it is, with TLS for rediss:// in any case', () => {
    assert.deepEqual(parseRedisUrl('redis://localhost:6379/2'), { topology: 'single', tls: false, url: 'redis://localhost:6379/2' });
    assert.equal(parseRedisUrl(`rediss://:${SECRET}@cache.example.com`).tls, true);
    assert.equal(parseRedisUrl('REDISS://cache.example.com').tls, true);
  });

  it('reads the sentinels, master name, database and both sets of credentials from a redis+sentinel:// URL', () => {
    assert.deepEqual(
      parseRedisUrl(`redis+sentinel://app:p%40ss%3Aword@s1.example.com:26380,[::1],10.0.0.3:26379/my%20master/3?sentinelUsername=watch&sentinelPassword=${SECRET}`),
      {
        topology: 'sentinel', tls: false, masterName: 'my master', db: 3, username: 'app', password: 'p@ss:word',
        sentinels: [{ host: 's1.example.com', port: 26380 }, { host: '::1', port: 26379 }, { host: '10.0.0.3', port: 26379 }],
        sentinelUsername: 'watch', sentinelPassword: SECRET,
      },
    );
    assert.deepEqual(parseRedisUrl('rediss+sentinel://s1/mymaster/'), { topology: 'sentinel', tls: true, sentinels: [{ host: 's1', port: 26379 }], masterName: 'mymaster', db: 0 });
  });

  it('reads the seed nodes and credentials from a redis+cluster:// URL, port 6379 by default', () => {
    assert.deepEqual(parseRedisUrl(`REDISS+CLUSTER://:${SECRET}@n1:7000,n2,n3:7002/`), {
      topology: 'cluster', tls: true, password: SECRET, nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 6379 }, { host: 'n3', port: 7002 }],
    });
  });

  it('refuses a malformed or unknown URL with a message that never repeats its password', () => {
    const bad = [
      `http://:${SECRET}@h:6379`, `redis+sentinal://:${SECRET}@h/m`, `redis+sentinel://:${SECRET}@h:26379`, `redis+sentinel://:${SECRET}@h/`,
      `redis+sentinel://:${SECRET}@h/m/x`, `redis+sentinel://:${SECRET}@h/m/0/extra`, `redis+sentinel://:${SECRET}@/m`, `redis+sentinel://:${SECRET}@h,,k/m`,
      `redis+sentinel://:${SECRET}@h:99999/m`, `redis+sentinel://:${SECRET}@h:port/m`, `redis+sentinel://:${SECRET}@h/m?password=${SECRET}`,
      `redis+sentinel://:${SECRET}@h/m?${SECRET}=1`, `redis+sentinel://h/m?sentinelPassword=${SECRET}&sentinelPassword=${SECRET}`,
      `redis+sentinel://:${SECRET}%zz@h/m`, `redis+cluster://:${SECRET}@h:7000/0`, `redis+cluster://:${SECRET}@h:7000?sentinelPassword=x`,
      `redis+cluster://:${SECRET}@h:7000#frag`, `redis://:${SECRET}@[::1`, `:${SECRET}@h:6379`, '',
    ];
    for (const url of bad) {
      assert.throws(() => parseRedisUrl(url), (error: unknown) => {
        assert.ok(error instanceof RedisUrlError, url);
        assert.ok(!error.message.includes(SECRET), `${url} -> ${error.message}`);
        return true;
      }, url);
      assert.equal(typeof redisUrlProblem(url), 'string', url);
    }
    assert.equal(redisUrlProblem('redis+cluster://n1:7000'), undefined);
  });
});
