// The access log's stage_logs: plugin runs grouped by stage, then by set, in first-run order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stageLogsJson } from '../../../src/gateway/plugins-engine/plugin-steps.js';

test('runs are grouped by stage and set, in the order they first ran, with their details', () => {
  const json = stageLogsJson([
    { set: 'default/a', type: 'RealIp', where: 'requestPlugins[0]', us: 3 },
    { set: 'default/a', type: 'KeyAuth', where: 'requestPlugins[1]', us: 12, log: ['consumer "bob"'] },
    { set: 'default/b', type: 'Mock', where: 'requestPlugins[0]', us: 1, skip: 'keyExist x-skip' },
    { set: 'default/a', type: 'ResponseRewrite', where: 'upstreamResponseFilterPlugins[0]', us: 2, outcome: 'error' },
    { set: 'default/a', type: 'RateLimit', where: 'requestPlugins[2]', us: 4 },
  ]);
  assert.deepEqual(JSON.parse(json!), [
    {
      stage: 'request_filters',
      edgion_plugins: [
        {
          name: 'default/a',
          logs: [
            { name: 'RealIp', time_cost: 3 },
            { name: 'KeyAuth', time_cost: 12, log: ['consumer "bob"'] },
            { name: 'RateLimit', time_cost: 4 },
          ],
        },
        { name: 'default/b', logs: [{ name: 'Mock', time_cost: 1, cond_skip: 'keyExist x-skip' }] },
      ],
    },
    { stage: 'upstream_response_filters', edgion_plugins: [{ name: 'default/a', logs: [{ name: 'ResponseRewrite', time_cost: 2, outcome: 'error' }] }] },
  ]);
  assert.equal(stageLogsJson([]), undefined);
  assert.equal(stageLogsJson(undefined), undefined);
});

test('runs of the same entries reuse the text around the timings and details; another entry list gets its own', () => {
  const a = {};
  const b = {};
  const c = {};
  const runs = (usA: number, usB: number, extra?: Partial<{ log: string[] }>) => [
    { set: 'default/p', type: 'KeyAuth', where: 'requestPlugins[0]', us: usA, entry: a, ...extra },
    { set: 'default/p', type: 'ResponseRewrite', where: 'upstreamResponseFilterPlugins[0]', us: usB, entry: b },
  ];
  const expected = (usA: number, usB: number, log?: string[]) => [
    { stage: 'request_filters', edgion_plugins: [{ name: 'default/p', logs: [{ name: 'KeyAuth', time_cost: usA, ...(log ? { log } : {}) }] }] },
    { stage: 'upstream_response_filters', edgion_plugins: [{ name: 'default/p', logs: [{ name: 'ResponseRewrite', time_cost: usB }] }] },
  ];
  assert.deepEqual(JSON.parse(stageLogsJson(runs(1, 2))!), expected(1, 2));
  const shape = (a as { logShape?: unknown }).logShape;
  assert.ok(shape, 'kept on the first entry');
  assert.deepEqual(JSON.parse(stageLogsJson(runs(7, 9))!), expected(7, 9));
  assert.equal((a as { logShape?: unknown }).logShape, shape, 'reused');
  assert.deepEqual(JSON.parse(stageLogsJson(runs(3, 4, { log: ['hi'] }))!), expected(3, 4, ['hi']));
  assert.equal((a as { logShape?: unknown }).logShape, shape, 'details (log lines) are filled in like the timings');
  // Another entry list starting with the same entry: a new shape, correct output.
  const other = [{ set: 'default/p', type: 'KeyAuth', where: 'requestPlugins[0]', us: 5, entry: a }, { set: 'default/p', type: 'RateLimit', where: 'requestPlugins[1]', us: 6, entry: c }];
  assert.deepEqual(JSON.parse(stageLogsJson(other)!), [{ stage: 'request_filters', edgion_plugins: [{ name: 'default/p', logs: [{ name: 'KeyAuth', time_cost: 5 }, { name: 'RateLimit', time_cost: 6 }] }] }]);
  assert.deepEqual(JSON.parse(stageLogsJson(runs(8, 8))!), expected(8, 8));
});
