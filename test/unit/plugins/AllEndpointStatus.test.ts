import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { AllEndpointStatus, resetAllEndpointStatusState } from '../../../src/plugins/http/traffic/all-endpoint-status.js';
import type { PluginReply } from '../../../src/plugins/runtime/define-plugin.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { fakeDeps } from '../../helpers/traffic.js';

const reg = builtinRegistry();
const validate = (config: unknown) => reg.validateEntry('requestPlugins', { type: 'AllEndpointStatus', config });

test('schema: defaults and maxima', () => {
  const { problems, config } = validate({});
  assert.deepEqual(problems, []);
  assert.deepEqual(config, { timeoutMs: 2000, wallTimeoutMs: 10000, maxEndpoints: 20, maxBodySize: 16384, concurrencyLimit: 10, includeResponseHeaders: false });
  assert.equal(validate({ timeoutMs: 5001 }).problems[0]!.path, 'config.timeoutMs');
  assert.equal(validate({ wallTimeoutMs: 10001 }).problems[0]!.path, 'config.wallTimeoutMs');
  assert.equal(validate({ maxEndpoints: 51 }).problems[0]!.path, 'config.maxEndpoints');
  assert.equal(validate({ maxBodySize: 16385 }).problems[0]!.path, 'config.maxBodySize');
  assert.equal(validate({ pathOverride: 'healthz' }).problems[0]!.path, 'config.pathOverride');
});

test('a run: JSON summary; a second run within a second is refused with 429', async () => {
  resetAllEndpointStatusState();
  const srv = http.createServer((req, res) => res.end(`ok ${req.headers.host} ${req.url}`));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const p = (srv.address() as AddressInfo).port;
  try {
    const inst = AllEndpointStatus.create(validate({ pathOverride: '/hz' }).config as never, fakeDeps());
    const s = new FakeSession({ backends: [{ namespace: 'ns', name: 'api', weight: 1, endpoints: [{ address: '127.0.0.1', port: p, ready: true }] }] });
    const r = (await inst.onRequest!(s)) as PluginReply;
    assert.equal(r.status, 200);
    const j = JSON.parse(String(r.body));
    assert.equal(j.summary.success_count, 1);
    assert.equal(j.backends[0].port, 80, 'port defaults to 80');
    assert.equal(j.backends[0].endpoints[0].body, 'ok api /hz');
    assert.equal(j.backends[0].endpoints[0].address, `127.0.0.1:${p}`);
    const again = (await inst.onRequest!(s)) as PluginReply;
    assert.equal(again.status, 429);
    assert.equal(again.headers!['retry-after'], '1');
  } finally {
    srv.close();
    resetAllEndpointStatusState();
  }
});
