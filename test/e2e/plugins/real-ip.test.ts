// RealIp end to end (plugins.md §4.22, DECISIONS §36): the real client IP reaches later plugins
// (Dsl, CtxSet templates, conditions), the X-Real-IP header sent upstream and the access log's
// remote-addr; untrusted peers and malformed entries; a rejected configuration.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request, waitFor } from '../../helpers/http.js';
import { base, condition, docs, plugins, route } from './util-kit.js';

let e: Edgion;
let echo: EchoServer;
let port: number;

const observe = {
  type: 'Dsl',
  config: { name: 'observe', source: 'req.set_header("x-seen-remote", req.remote_ip())\nreq.set_header("x-seen-peer", req.client_ip())' },
};

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  e = await Edgion.start({
    conf: {
      'base.yaml': base(port, echo.port),
      'plugins.yaml': docs([
        plugins('rip', { requestPlugins: [{ type: 'RealIp', config: { trustedIps: ['127.0.0.1', '10.0.0.0/8', 'not-an-ip'] } }, observe, { type: 'CtxSet', config: { vars: [{ name: 'who', template: '${clientIp}' }] } }] }),
        plugins('rip-header', { requestPlugins: [{ type: 'RealIp', config: { trustedIps: ['127.0.0.0/8'], realIpHeader: 'CF-Connecting-IP' } }, observe] }),
        plugins('rip-untrusted', { requestPlugins: [{ type: 'RealIp', config: { trustedIps: ['10.0.0.0/8'] } }, observe] }),
        plugins('rip-block', {
          requestPlugins: [
            { type: 'RealIp', config: { trustedIps: ['127.0.0.1'] } },
            { type: 'Mock', config: { statusCode: 403, body: 'blocked' }, conditions: { run: [{ type: 'keyMatch', key: { type: 'clientIp' }, values: ['6.6.6.6'] }] } },
          ],
        }),
        plugins('rip-bad', { requestPlugins: [{ type: 'RealIp', config: { trustedIps: ['127.0.0.1'], realIpHeader: 'X Forwarded For' } }] }),
      ]),
      'routes.yaml': docs([
        route('rip', 'rip.test', echo.port, ['rip']),
        route('rip-header', 'rip-header.test', echo.port, ['rip-header']),
        route('rip-untrusted', 'rip-untrusted.test', echo.port, ['rip-untrusted']),
        route('rip-block', 'rip-block.test', echo.port, ['rip-block']),
        route('rip-bad', 'rip-bad.test', echo.port, ['rip-bad']),
      ]),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const get = (host: string, headers: Record<string, string> = {}, path = '/') => request({ port, host, path, headers });

test('a trusted peer: the first untrusted address from the right is the client, for upstream, later plugins and the access log', async () => {
  const path = `/rip-${Date.now()}`;
  const r = await get('rip.test', { 'x-forwarded-for': '1.2.3.4, 10.0.0.9' }, path);
  assert.equal(r.status, 200);
  const up = r.json.headers;
  assert.equal(up['x-real-ip'], '1.2.3.4');
  assert.equal(up['x-seen-remote'], '1.2.3.4');
  assert.equal(up['x-seen-peer'], '127.0.0.1');
  assert.equal(up['x-forwarded-for'], '1.2.3.4, 10.0.0.9, 127.0.0.1', 'the chain is kept and the peer appended');
  const line = await waitFor(async () => e.accessLog().find((l) => l.request_info?.path === path));
  assert.equal(line.request_info['remote-addr'], '1.2.3.4');
  assert.equal(line.request_info['client-addr'], '127.0.0.1');
  assert.equal(line.ctx.who, '1.2.3.4', 'a CtxSet template after RealIp sees the new IP');
});

test('malformed entries are skipped; every address trusted → the leftmost; none valid → the peer', async () => {
  let r = await get('rip.test', { 'x-forwarded-for': 'garbage, 5.6.7.8, nonsense, 10.1.1.1' });
  assert.equal(r.json.headers['x-real-ip'], '5.6.7.8');
  r = await get('rip.test', { 'x-forwarded-for': '10.3.3.3, 10.2.2.2' });
  assert.equal(r.json.headers['x-real-ip'], '10.3.3.3');
  r = await get('rip.test', { 'x-forwarded-for': 'unknown, x' });
  assert.equal(r.json.headers['x-real-ip'], '127.0.0.1');
  r = await get('rip.test');
  assert.equal(r.json.headers['x-real-ip'], '127.0.0.1');
});

test('another header (realIpHeader)', async () => {
  const r = await get('rip-header.test', { 'cf-connecting-ip': '9.9.9.9', 'x-forwarded-for': '8.8.8.8' });
  assert.equal(r.json.headers['x-real-ip'], '9.9.9.9');
  assert.equal(r.json.headers['x-seen-remote'], '9.9.9.9');
});

test('an untrusted peer is the client whatever the header says', async () => {
  const r = await get('rip-untrusted.test', { 'x-forwarded-for': '1.2.3.4' });
  assert.equal(r.json.headers['x-real-ip'], '127.0.0.1');
  assert.equal(r.json.headers['x-seen-remote'], '127.0.0.1');
});

test('conditions on clientIp see the real IP', async () => {
  const blocked = await get('rip-block.test', { 'x-forwarded-for': '6.6.6.6' });
  assert.equal(blocked.status, 403);
  assert.equal(blocked.body, 'blocked');
  const ok = await get('rip-block.test', { 'x-forwarded-for': '7.7.7.7' });
  assert.equal(ok.status, 200);
});

test('a bad configuration is rejected in the status (the route fails closed); invalid trustedIps entries are warnings', async () => {
  const r = await get('rip-bad.test');
  assert.equal(r.status, 500);
  const bad = await e.api('/api/v1/resources/EdgionPlugins/default/rip-bad');
  const acc = condition(bad.json, 'Accepted')!;
  assert.equal(acc.status, 'False');
  assert.match(acc.message, /spec\.requestPlugins\[0\]\.config\.realIpHeader.*must be a header name/);
  const ok = await e.api('/api/v1/resources/EdgionPlugins/default/rip');
  assert.equal(condition(ok.json, 'Accepted')!.status, 'True');
  assert.match(e.processLog('controller') + e.output.join('\n'), /"not-an-ip" is not an IP address or CIDR; it is ignored/);
});
