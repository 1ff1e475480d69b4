import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMBEDDED_SEAL_INTERVAL_MS, SHARED_DATABASE_SEAL_INTERVAL_MS, sealIntervalMs } from './seal-interval.js';

describe('sealIntervalMs', () => {
  it('polls often only where other instances commit: 200 ms on a shared PostgreSQL, 5 s embedded', () => {
    assert.equal(sealIntervalMs(undefined, true), SHARED_DATABASE_SEAL_INTERVAL_MS);
    assert.equal(SHARED_DATABASE_SEAL_INTERVAL_MS, 200);
    assert.equal(sealIntervalMs(undefined, false), EMBEDDED_SEAL_INTERVAL_MS);
    assert.equal(EMBEDDED_SEAL_INTERVAL_MS, 5_000);
  });

  it('keeps a configured period in either mode', () => {
    assert.equal(sealIntervalMs(25, false), 25);
    assert.equal(sealIntervalMs(3_600_000, true), 3_600_000);
  });
});
