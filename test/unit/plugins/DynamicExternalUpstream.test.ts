import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { DynamicExternalUpstream } from '../../../src/plugins/http/traffic/dynamic-external-upstream.js';
import { isLoopbackOrUnspecified } from '../../../src/gateway/proxy/http-proxy.js';
import type { PluginReply } from '../../../src/plugins/runtime/define-plugin.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { fakeDeps } from '../../helpers/traffic.js';

const reg = builtinRegistry();
const validate = (config: unknown) => reg.validateEntry('requestPlugins', { type: 'DynamicExternalUpstream', config });
const domainMap = { eu: { domain: 'api-eu.partner.example' }, us: { domain: 'api-us.partner.example', port: 8443, sni: 'us.partner.example' }, plain: { domain: 'plain.example', tls: false, overrideHost: 'virt.example' } };
const make = (config: Record<string, unknown>) => DynamicExternalUpstream.create(validate({ from: { type: 'query', name: 'region' }, domainMap, ...config }).config as never, fakeDeps());
const req = (region?: string) => new FakeSession({ query: region ? `region=${region}` : '' });

test('schema: defaults, domain must be a host name, map not empty', () => {
  const { problems, config } = validate({ from: { type: 'query', name: 'region' }, domainMap: { a: { domain: 'x.example' } } });
  assert.deepEqual(problems, []);
  assert.deepEqual(config, { from: { type: 'query', name: 'region' }, domainMap: { a: { domain: 'x.example', tls: true } }, onMissing: 'skip', onNoMatch: 'skip', debugHeader: false });
  assert.equal(validate({ from: { type: 'query', name: 'r' }, domainMap: { a: { domain: 'https://x/y' } } }).problems[0]!.path, 'config.domainMap.a.domain');
  assert.equal(validate({ from: { type: 'query', name: 'r' }, domainMap: {} }).problems[0]!.path, 'config.domainMap');
  assert.equal(validate({ from: { type: 'query', name: 'r' }, domainMap: { a: { domain: 'x', port: 0 } } }).problems[0]!.path, 'config.domainMap.a.port');
});

test('the mapped target: port 443/80 by tls, SNI and Host defaults to the domain; debug header', () => {
  const inst = make({ debugHeader: true });
  const eu = req('eu');
  inst.onRequest!(eu);
  assert.deepEqual(eu.upstream, { kind: 'external', host: 'api-eu.partner.example', port: 443, tls: true, servername: 'api-eu.partner.example', hostHeader: 'api-eu.partner.example' });
  assert.equal(eu.header('x-dynamic-external-upstream'), 'api-eu.partner.example:443');
  const us = req('us');
  inst.onRequest!(us);
  assert.deepEqual(us.upstream, { kind: 'external', host: 'api-us.partner.example', port: 8443, tls: true, servername: 'us.partner.example', hostHeader: 'api-us.partner.example' });
  const plain = req('plain');
  inst.onRequest!(plain);
  assert.deepEqual(plain.upstream, { kind: 'external', host: 'plain.example', port: 80, tls: false, servername: 'plain.example', hostHeader: 'virt.example' });
});

test('missing and no match: skip continues, reject answers 400', () => {
  const skip = make({});
  for (const r of [undefined, 'mars']) {
    const s = req(r);
    assert.equal(skip.onRequest!(s), undefined);
    assert.equal(s.upstream, undefined);
  }
  const strict = make({ onMissing: 'reject', onNoMatch: 'reject' });
  assert.equal((strict.onRequest!(req()) as PluginReply).status, 400);
  assert.equal((strict.onRequest!(req('mars')) as PluginReply).status, 400);
});

test('loopback and unspecified addresses are recognised for refusal', () => {
  for (const a of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '0.0.0.0', '::', '0:0:0:0:0:0:0:1']) assert.equal(isLoopbackOrUnspecified(a), true, a);
  for (const a of ['10.0.0.1', '93.184.216.34', 'fd00::1', '::ffff:10.0.0.1']) assert.equal(isLoopbackOrUnspecified(a), false, a);
});
