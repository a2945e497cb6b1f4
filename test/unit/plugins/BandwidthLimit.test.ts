import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { BandwidthLimit, parseRate } from '../../../src/plugins/http/traffic/bandwidth-limit.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { fakeDeps } from '../../helpers/traffic.js';

const reg = builtinRegistry();
const validate = (config: unknown) => reg.validateEntry('upstreamResponseBodyFilterPlugins', { type: 'BandwidthLimit', config });

test('rates: plain bytes, kb/mb/gb 1024-based, decimals, case-insensitive; > 0', () => {
  assert.equal(parseRate('1024'), 1024);
  assert.equal(parseRate('512kb'), 512 * 1024);
  assert.equal(parseRate('1MB'), 1024 * 1024);
  assert.equal(parseRate('1.5mb'), 1.5 * 1024 * 1024);
  assert.equal(parseRate('1gb'), 1024 ** 3);
  assert.equal(parseRate('0kb'), undefined);
  assert.equal(parseRate('fast'), undefined);
  assert.equal(parseRate('10tb'), undefined);
  assert.equal(validate({ rate: '0' }).problems[0]!.path, 'config.rate');
  assert.match(validate({ rate: 'x' }).problems[0]!.message, /not a rate/);
  assert.equal(validate({}).problems.length, 1);
  assert.equal(reg.validateEntry('requestPlugins', { type: 'BandwidthLimit', config: { rate: '1kb' } }).problems[0]!.path, 'type');
});

test('pieces of a tenth of a second, the first at once, paced to the rate', async () => {
  const inst = BandwidthLimit.create(validate({ rate: '10kb' }).config as never, fakeDeps());
  const s = new FakeSession();
  const t0 = performance.now();
  const times: number[] = [];
  const sizes: number[] = [];
  for (const chunk of [Buffer.alloc(3000), Buffer.alloc(2120)]) {
    const out = inst.onBodyChunk!(s, chunk, false) as AsyncIterable<Buffer>;
    for await (const p of out) {
      times.push(performance.now() - t0);
      sizes.push(p.length);
    }
  }
  assert.deepEqual(sizes, [1024, 1024, 952, 1024, 1024, 72]);
  assert.ok(times[0]! < 30, 'first piece at once');
  // Piece k goes when the bytes before it have had their time at 10240 B/s.
  let before = 0;
  for (let i = 0; i < sizes.length; i++) {
    assert.ok(times[i]! >= (before / 10240) * 1000 - 5, `piece ${i} at ${times[i]} ms`);
    before += sizes[i]!;
  }
});
