// status against the fake admin APIs: readable summary and exit codes 0/1/3.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeController, startFakeGateway, type FakeController, type FakeGateway } from '../../helpers/fake-admin.js';
import { oneJson, runCli } from '../../helpers/run-cli.js';

let controller: FakeController;
let gateway: FakeGateway;
const status = (...args: string[]) => runCli(['status', '--controller-url', controller.url, '--gateway-url', gateway.url, ...args]);

before(async () => {
  controller = await startFakeController({
    resources: [{ kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'acc' } }],
    rejected: [{ kind: 'HTTPRoute', namespace: 'acc', name: 'bad', reasons: ['backendRef svc not found'] }],
    gateways: [{ id: 'g1', name: 'gw-1', pid: 4242, ackedVersion: 1 }],
  });
  gateway = await startFakeGateway();
});
after(async () => {
  await controller.close();
  await gateway.close();
});

describe('status', () => {
  it('prints a summary and exits 0 when the gateway is ready', async () => {
    const run = await status();
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Controller\s+http:\/\/127\.0\.0\.1:\d+\s+pid \d+\s+v0\.1\.0 .*standalone/m);
    assert.match(run.stdout, /^Gateway\s+.*\bready\b/m);
    assert.match(run.stdout, /^Config\s+controller v1, gateway v1 \(in sync\)$/m);
    assert.match(run.stdout, /^Gateways\s+1 connected: gw-1\s+pid 4242\s+acked v1$/m);
    assert.match(run.stdout, /^Resources\s+1 total: HTTPRoute 1$/m);
    assert.match(run.stdout, /^Rejected\s+HTTPRoute acc\/bad: backendRef svc not found$/m);
  });

  it('exits 1 with --strict when resources are rejected', async () => {
    const run = await status('--strict', '--json');
    assert.equal(run.code, 1);
    const doc = oneJson(run);
    assert.equal(doc.error.code, 'EDG_ERR_INVALID');
    assert.equal(doc.rejected[0].name, 'bad');
  });

  it('exits 1 when the gateway is not ready, and --wait waits until it is', async () => {
    gateway.ready = false;
    const run = await status();
    assert.equal(run.code, 1);
    assert.match(run.stdout, /NOT READY/);
    assert.match(run.stderr, /^Error: the gateway is not ready$/m);
    setTimeout(() => (gateway.ready = true), 1200);
    const waited = await status('--wait', '--timeout', '10', '--json');
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal(oneJson(waited).ready, true);
  });

  it('exits 3 when the gateway cannot be reached, still showing the controller', async () => {
    const run = await runCli(['status', '--controller-url', controller.url, '--gateway-url', 'http://127.0.0.1:1', '--json']);
    assert.equal(run.code, 3);
    const doc = oneJson(run);
    assert.equal(doc.error.code, 'EDG_ERR_UNREACHABLE');
    assert.equal(doc.controller.reachable, true);
    assert.equal(doc.gateway.reachable, false);
  });
});
