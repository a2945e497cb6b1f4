// The access log writer: every line reaches the file whole and in order, whatever the batching.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { AccessLog } from '../../../src/gateway/observe/access-log.js';

function tmpFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'edgion-log-')), 'logs', 'access.log');
}

test('lines are written whole, in order, across many batches; flush() waits for the disk', async () => {
  const file = tmpFile();
  const log = new AccessLog(file, 5);
  const lines: string[] = [];
  for (let i = 0; i < 5000; i++) {
    // Mixed widths, multi-byte characters included, so batches fill at odd offsets.
    const line = JSON.stringify({ i, path: `/p/${'x'.repeat(i % 300)}`, note: i % 7 === 0 ? 'héllo ✓ 😀' : 'plain' });
    lines.push(line);
    log.write(line);
  }
  await log.flush();
  assert.deepEqual(fs.readFileSync(file, 'utf8').split('\n').slice(0, -1), lines);
  assert.equal(log.dropped, 0);
  await log.close();
});

test('a line larger than a batch buffer is written on its own, between its neighbours', async () => {
  const file = tmpFile();
  const log = new AccessLog(file, 5);
  const big = 'y'.repeat(400 * 1024);
  log.write('before');
  log.write(big);
  log.write('after');
  await log.close();
  assert.deepEqual(fs.readFileSync(file, 'utf8').split('\n'), ['before', big, 'after', '']);
});

test('lines written without flush() reach the file after the flush interval', async () => {
  const file = tmpFile();
  const log = new AccessLog(file, 20);
  log.write('{"a":1}');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(fs.readFileSync(file, 'utf8'), '{"a":1}\n');
  await log.close();
  log.write('ignored after close');
  assert.equal(fs.readFileSync(file, 'utf8'), '{"a":1}\n');
});
