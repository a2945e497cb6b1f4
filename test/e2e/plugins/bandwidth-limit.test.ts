// BandwidthLimit end to end: a large body paced to the rate (DECISIONS.md §38: pieces of at most
// a tenth of a second's worth, the first at once, the average within the rate), a rejected rate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Edgion, yaml } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
import { pluginsYaml, routeYaml } from '../../helpers/traffic.js';

let e: Edgion;
let a: EchoServer;
let port: number;

before(async () => {
  a = await startEcho('a');
  port = await freePort();
  const svc = [{ name: 'svc-a', port: a.port }];
  e = await Edgion.start({
    conf: {
      'base.yaml': [yaml.gatewayClass(), yaml.gateway('gw', [{ name: 'http', port }]), yaml.service('svc-a', a.port)].join('---\n'),
      'plugins.yaml': [
        pluginsYaml('slow', { body: [{ type: 'BandwidthLimit', config: { rate: '100kb' } }] }),
        pluginsYaml('fast', { body: [{ type: 'BandwidthLimit', config: { rate: '0.5MB' } }] }),
        pluginsYaml('bad', { body: [{ type: 'BandwidthLimit', config: { rate: '0kb' } }] }),
      ].join('---\n'),
      'routes.yaml': [routeYaml('slow', 'slow.test', 'slow', svc), routeYaml('fast', 'fast.test', 'fast', svc), routeYaml('bad', 'bad.test', 'bad', svc), routeYaml('plain', 'plain.test', undefined, svc)].join(
        '---\n',
      ),
    },
  });
});

after(async () => {
  await e?.stop();
  await a?.close();
});

/** Downloads `path`, timing the first byte, the end and every piece. */
function timed(host: string, path: string): Promise<{ status: number; bytes: number; firstMs: number; totalMs: number; pieces: { at: number; n: number }[] }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request({ port, host: '127.0.0.1', path, headers: { host }, agent: false }, (res) => {
      const pieces: { at: number; n: number }[] = [];
      res.on('data', (c: Buffer) => pieces.push({ at: performance.now() - t0, n: c.length }));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes: pieces.reduce((s, p) => s + p.n, 0), firstMs: pieces[0]?.at ?? 0, totalMs: performance.now() - t0, pieces }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a 300 KiB body at 100kb takes about 3 s, starts at once and never runs ahead of the rate', async () => {
  const size = 300 * 1024;
  const r = await timed('slow.test', `/bytes/${size}`);
  assert.equal(r.status, 200);
  assert.equal(r.bytes, size);
  const rate = 100 * 1024;
  const floor = ((size - rate / 10) / rate) * 1000; // everything after the first piece is paced
  assert.ok(r.totalMs >= floor - 50, `took ${Math.round(r.totalMs)} ms, at least ${Math.round(floor)} expected`);
  assert.ok(r.totalMs < floor + 2000, `took ${Math.round(r.totalMs)} ms`);
  assert.ok(r.firstMs < 1000, `first byte after ${Math.round(r.firstMs)} ms`);
  // At any moment the client has at most rate × t plus one piece (and the socket's own batching).
  let got = 0;
  for (const p of r.pieces) {
    got += p.n;
    assert.ok(got <= (rate * p.at) / 1000 + 2 * (rate / 10) + 1, `${got} bytes after ${Math.round(p.at)} ms runs ahead of the rate`);
  }
});

test('decimal and case-insensitive rates; without the plugin the body is not slowed', async () => {
  const size = 400 * 1024;
  const fast = await timed('fast.test', `/bytes/${size}`);
  assert.equal(fast.bytes, size);
  assert.ok(fast.totalMs >= 650, `0.5MB: took ${Math.round(fast.totalMs)} ms`);
  const plain = await timed('plain.test', `/bytes/${size}`);
  assert.equal(plain.bytes, size);
  assert.ok(plain.totalMs < 500, `plain took ${Math.round(plain.totalMs)} ms`);
});

test('a zero rate is rejected with its path', async () => {
  const st = await e.api('/api/v1/resources/EdgionPlugins/default/bad');
  const accepted = st.json.status.conditions.find((c: { type: string }) => c.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.match(accepted.message, /spec\.upstreamResponseBodyFilterPlugins\[0\]\.config\.rate/);
  assert.equal((await request({ port, host: 'bad.test', path: '/' })).status, 500);
});
