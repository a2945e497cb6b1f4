import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { ResponseRewrite } from '../../../src/plugins/http/traffic/response-rewrite.js';
import type { PluginResponse } from '../../../src/plugins/runtime/define-plugin.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { fakeDeps } from '../../helpers/traffic.js';

const reg = builtinRegistry();
const validate = (config: unknown) => reg.validateEntry('upstreamResponseFilterPlugins', { type: 'ResponseRewrite', config });
const make = (config: Record<string, unknown>) => ResponseRewrite.create(validate(config).config as never, fakeDeps());
const chunk = async (inst: ReturnType<typeof make>, s: FakeSession, b: Buffer, last: boolean) => (await inst.onBodyChunk!(s, b, last)) as Buffer;
function res(headers: Record<string, string | string[] | undefined>, status = 200): PluginResponse & { final: number } {
  const r = { status, final: status, headers, setStatus: (n: number) => (r.final = n) };
  return r;
}

test('validation: status range, bad body regex, only in the response filter stage', () => {
  assert.equal(validate({ statusCode: 99 }).problems[0]!.path, 'config.statusCode');
  assert.equal(validate({ bodyReplace: [{ pattern: '[', replacement: '' }] }).problems[0]!.path, 'config.bodyReplace[0].pattern');
  assert.equal(reg.validateEntry('requestPlugins', { type: 'ResponseRewrite', config: {} }).problems[0]!.path, 'type');
  assert.equal(validate({ body: 'x', bodyReplace: [{ pattern: 'a', replacement: 'b' }] }).problems[0]!.severity, 'warning');
  assert.equal((validate({}).config as { maxBodySize: number }).maxBodySize, 1048576);
});

test('status and header operations in order rename → add → set → remove', () => {
  const inst = make({ statusCode: 410, headers: { rename: [{ from: 'X-Id', to: 'X-Ref' }], add: [{ name: 'x-ref', value: 'added' }], set: [{ name: 'x-set', value: 's' }], remove: ['x-powered-by', 'x-gone'] } });
  assert.equal(inst.onBodyChunk, undefined, 'no body work without the extension');
  const r = res({ 'x-id': '42', 'x-powered-by': 'php', 'x-set': 'old' });
  inst.onResponseHeaders!(new FakeSession(), r);
  assert.equal(r.final, 410);
  assert.deepEqual(r.headers, { 'x-ref': ['42', 'added'], 'x-set': 's' });
});

test('extension: whole-body replacement holds chunks back and sends the new body at the end', async () => {
  const inst = make({ body: 'new body' });
  const s = new FakeSession();
  const r = res({ 'content-encoding': 'gzip', etag: '"x"' });
  inst.onResponseHeaders!(s, r);
  assert.equal(r.headers['content-encoding'], undefined);
  assert.equal((await chunk(inst, s, Buffer.from('old'), false)).length, 0);
  assert.equal(String(await chunk(inst, s, Buffer.alloc(0), true)), 'new body');
});

test('extension: bodyReplace on the whole body; encoded or too large bodies pass through', async () => {
  const inst = make({ bodyReplace: [{ pattern: 'secret-\\d+', replacement: '***' }], maxBodySize: 20 });
  const s = new FakeSession();
  inst.onResponseHeaders!(s, res({}));
  assert.equal((await chunk(inst, s, Buffer.from('a secret-1 '), false)).length, 0);
  assert.equal(String(await chunk(inst, s, Buffer.from('secret-22'), true)), 'a *** ***');
  const big = new FakeSession();
  inst.onResponseHeaders!(big, res({}));
  assert.equal((await chunk(inst, big, Buffer.from('0123456789'), false)).length, 0);
  assert.equal(String(await chunk(inst, big, Buffer.from('0123456789abc'), false)), '01234567890123456789abc', 'over the cap: held bytes go out unchanged');
  assert.equal(String(await chunk(inst, big, Buffer.from('secret-1'), true)), 'secret-1');
  const gz = new FakeSession();
  inst.onResponseHeaders!(gz, res({ 'content-encoding': 'gzip' }));
  assert.equal(String(await chunk(inst, gz, Buffer.from('secret-1'), true)), 'secret-1');
});
