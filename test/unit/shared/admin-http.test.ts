// Admin APIs: loopback by default; any other bind address needs a token, which every request
// must then carry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdminServer, json } from '../../../src/shared/admin-http.js';
import { request } from '../../helpers/http.js';

test('binding a non-loopback address without a token is refused', () => {
  assert.throws(() => new AdminServer({ bind: '0.0.0.0', port: 0, handler: () => json(200, {}) }), /needs a token/);
});

test('with a token, requests without it get 401 and with it 200', async () => {
  const s = new AdminServer({ bind: '127.0.0.1', port: 0, token: 's3cret', handler: () => json(200, { ok: true }) });
  const port = await s.listen();
  try {
    const no = await request({ port, path: '/health' });
    assert.equal(no.status, 401);
    assert.equal(no.json.error.code, 'EDG_ERR_UNAUTHORIZED');
    assert.equal((await request({ port, path: '/health', headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await request({ port, path: '/health', headers: { authorization: 'Bearer s3cret' } })).status, 200);
  } finally {
    await s.close();
  }
});

test('unknown endpoints get the error envelope with 404', async () => {
  const s = new AdminServer({ bind: '127.0.0.1', port: 0, handler: () => undefined });
  const port = await s.listen();
  try {
    const r = await request({ port, path: '/nope' });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 'EDG_ERR_NOT_FOUND');
  } finally {
    await s.close();
  }
});
