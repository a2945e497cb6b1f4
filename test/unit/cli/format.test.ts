import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAge, formatDuration } from '../../../src/cli/age.js';
import { formatTable } from '../../../src/cli/table.js';
import { formatDelay, RestartBackoff } from '../../../src/cli/restart-backoff.js';

describe('formatTable', () => {
  it('pads columns to the widest cell, three spaces apart, without trailing spaces', () => {
    const lines = formatTable(
      ['NAME', 'STATUS', 'AGE'],
      [
        ['a', 'Accepted', '5s'],
        ['longer-name', 'Rejected: NotAllowed', '3m'],
      ],
    );
    assert.deepEqual(lines, [
      'NAME          STATUS                 AGE',
      'a             Accepted               5s',
      'longer-name   Rejected: NotAllowed   3m',
    ]);
  });
});

describe('formatAge', () => {
  const now = new Date('2025-01-10T12:00:00Z');
  it('is precise while young and coarse when old, like kubectl', () => {
    assert.equal(formatAge('2025-01-10T11:59:15Z', now), '45s');
    assert.equal(formatAge('2025-01-10T11:54:30Z', now), '5m30s');
    assert.equal(formatAge('2025-01-10T11:00:00Z', now), '60m');
    assert.equal(formatAge('2025-01-10T07:00:00Z', now), '5h');
    assert.equal(formatAge('2025-01-09T12:00:00Z', now), '24h');
    assert.equal(formatAge('2025-01-07T08:00:00Z', now), '3d4h');
    assert.equal(formatAge('2024-11-01T12:00:00Z', now), '70d');
  });
  it('prints "-" for a missing or broken timestamp', () => {
    assert.equal(formatAge(undefined, now), '-');
    assert.equal(formatAge('yesterday', now), '-');
  });
  it('never goes negative for clocks slightly ahead', () => {
    assert.equal(formatDuration(-5000), '0s');
  });
});

describe('RestartBackoff', () => {
  it('doubles from 1s to a 30s ceiling for a process that keeps crashing', () => {
    const b = new RestartBackoff();
    const delays = Array.from({ length: 8 }, () => b.next(100));
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });
  it('starts again at 1s after a run of 60s or more', () => {
    const b = new RestartBackoff();
    b.next(100);
    b.next(100);
    assert.equal(b.next(100), 4000);
    assert.equal(b.next(60_000), 1000);
    assert.equal(b.next(500), 2000);
  });
  it('prints delays the way the console message shows them', () => {
    assert.equal(formatDelay(1000), '1s');
    assert.equal(formatDelay(1500), '1.5s');
  });
});
