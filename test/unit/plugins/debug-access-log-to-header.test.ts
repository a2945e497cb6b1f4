// DebugAccessLogToHeader (plugins.md §4.21): X-Debug-Access-Log with the access-log JSON so far.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { debugHeaderValue, MAX_DEBUG_HEADER_BYTES } from '../../../src/plugins/http/utility/debug-access-log-to-header.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { make, problems, response } from './plugin-test-kit.js';

class LogSession extends FakeSession {
  constructor(private readonly line: string) {
    super();
  }
  override debugAccessLog() {
    return this.line;
  }
}

test('upstreamResponseFilterPlugins: the header holds the access-log JSON', () => {
  const res = response(200, {});
  make('DebugAccessLogToHeader', undefined, {}, 'upstreamResponseFilterPlugins').onResponseHeaders!(new FakeSession({ path: '/p', host: 'h.example' }), res);
  assert.deepEqual(JSON.parse(String(res.headers['x-debug-access-log'])), { request_info: { path: '/p', host: 'h.example' } });
});

test('requestPlugins: the line as known then, on whatever response the client gets', async () => {
  const s = new FakeSession({ path: '/r' });
  assert.equal(await make('DebugAccessLogToHeader', {}).onRequest!(s), undefined);
  assert.deepEqual(JSON.parse(String(s.responseHeaders.get('x-debug-access-log'))), { request_info: { path: '/r', host: 'test.local' } });
});

test('non-ASCII characters are escaped so the header is valid and the JSON unchanged', () => {
  const line = JSON.stringify({ path: '/café/☃/😀' });
  const v = debugHeaderValue(new LogSession(line));
  assert.match(v, /^[\x20-\x7e]+$/);
  assert.deepEqual(JSON.parse(v), { path: '/café/☃/😀' });
});

test('a line over 8 KiB drops its stage logs, then is cut', () => {
  const withStages = `{"request_info":{"path":"/x"},"stage_logs":[${JSON.stringify({ big: 'x'.repeat(9000) })}]}`;
  assert.deepEqual(JSON.parse(debugHeaderValue(new LogSession(withStages))), { request_info: { path: '/x' } });
  const huge = JSON.stringify({ path: 'y'.repeat(20_000) });
  const v = debugHeaderValue(new LogSession(huge));
  assert.equal(v.length, MAX_DEBUG_HEADER_BYTES);
  assert.ok(v.endsWith('...'));
});

test('no configuration needed; any config object is accepted and ignored', () => {
  assert.deepEqual(problems('DebugAccessLogToHeader', undefined, 'upstreamResponseFilterPlugins'), []);
  assert.deepEqual(problems('DebugAccessLogToHeader', { anything: 1 }, 'upstreamResponseFilterPlugins'), []);
  assert.deepEqual(problems('DebugAccessLogToHeader', 'x', 'upstreamResponseFilterPlugins'), ['config: must be an object (got "x")']);
  assert.deepEqual(problems('DebugAccessLogToHeader', {}, 'upstreamResponseBodyFilterPlugins'), ['type: DebugAccessLogToHeader does not run in upstreamResponseBodyFilterPlugins (it runs in upstreamResponseFilterPlugins, requestPlugins)']);
});
