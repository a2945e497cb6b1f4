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
