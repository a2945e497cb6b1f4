// Cors: schema defaults, rejected configs, and the handler (plugin and Gateway API semantics) on a fake session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { Cors } from '../../../src/plugins/http/security/cors.js';
import { CorsPolicy } from '../../../src/plugins/http/security/cors-core.js';
import { FakeSession } from '../../helpers/fake-session.js';
import { fakeDeps } from './security-deps.js';

const registry = builtinRegistry();
const validate = (config: unknown) => registry.validateEntry('requestPlugins', { type: 'Cors', config });
const messages = (config: unknown) => validate(config).problems.map((p) => `${p.path}: ${p.message}`);

test('defaults are filled in', () => {
  const { problems, config } = validate({ allowOrigins: 'https://a.test' });
  assert.deepEqual(problems, []);
  assert.deepEqual(config, {
    allowOrigins: 'https://a.test',
    allowMethods: 'GET,HEAD,OPTIONS',
    allowHeaders: 'Accept,Accept-Language,Content-Language,Content-Type,Range',
    exposeHeaders: '',
    allowCredentials: false,
    preflightContinue: false,
    allowPrivateNetwork: false,
  });
});

test('configs that cannot work are rejected with the field', () => {
  assert.match(messages({ allowOrigins: '*', allowCredentials: true }).join('\n'), /^config\.allowCredentials: .*"\*" cannot be combined/m);
  assert.match(messages({}).join('\n'), /^config\.allowOrigins: no origin is allowed/m);
  assert.match(messages({ allowOrigins: 'https://a.test/' }).join('\n'), /config\.allowOrigins: "https:\/\/a\.test\/" is not an origin: an origin has no path/);
  assert.match(messages({ allowOrigins: 'app.test' }).join('\n'), /config\.allowOrigins: "app\.test" is not an origin/);
  assert.match(messages({ allowOrigins: 'https://a*.test' }).join('\n'), /leftmost label/);
  assert.match(messages({ allowOriginsByRegex: ['(unclosed'] }).join('\n'), /config\.allowOriginsByRegex\[0\]: invalid regular expression/);
  assert.match(messages({ allowOriginsByRegex: ['(?s)x'] }).join('\n'), /config\.allowOriginsByRegex\[0\]: .*inline flag group/);
  assert.match(messages({ allowOrigins: '*', allowMethods: 'GET,P O S T' }).join('\n'), /config\.allowMethods: "P O S T" is not a valid HTTP method/);
  assert.match(messages({ allowOrigins: '*', maxAge: -1 }).join('\n'), /config\.maxAge/);
});

function run(config: Record<string, unknown>, req: ConstructorParameters<typeof FakeSession>[0]) {
  const { config: c } = validate(config);
  const s = new FakeSession(req);
  const reply = Cors.create(c as never, fakeDeps()).onRequest!(s);
  return { s, reply: reply as Exclude<typeof reply, Promise<unknown>> };
}

test('actual request from an allowed origin: headers queued for the response, Vary appended', () => {
  const { s, reply } = run({ allowOrigins: 'https://a.test,*.b.test', exposeHeaders: 'X-1', allowCredentials: true }, { headers: { origin: 'https://x.b.test' } });
  assert.equal(reply, undefined);
  assert.equal(s.responseHeaders.get('access-control-allow-origin'), 'https://x.b.test');
  assert.equal(s.responseHeaders.get('access-control-allow-credentials'), 'true');
  assert.equal(s.responseHeaders.get('access-control-expose-headers'), 'X-1');
  assert.equal(s.responseHeaders.get('vary'), 'Origin');
});

test('preflight: answered 200 with headers; disallowed origin answered 200 bare; no Origin untouched', () => {
  const ok = run({ allowOrigins: 'https://a.test', maxAge: 60 }, { method: 'OPTIONS', headers: { origin: 'https://a.test', 'access-control-request-method': 'GET' } });
  assert.equal(ok.reply?.status, 200);
  assert.equal(ok.reply?.headers?.['access-control-allow-origin'], 'https://a.test');
  assert.equal(ok.reply?.headers?.['access-control-max-age'], '60');
  const bad = run({ allowOrigins: 'https://a.test' }, { method: 'OPTIONS', headers: { origin: 'https://b.test', 'access-control-request-method': 'GET' } });
  assert.equal(bad.reply?.status, 200);
  assert.equal(bad.reply?.headers?.['access-control-allow-origin'], undefined);
  const none = run({ allowOrigins: 'https://a.test' }, { method: 'OPTIONS', headers: { 'access-control-request-method': 'GET' } });
  assert.equal(none.reply, undefined);
  assert.equal(none.s.responseHeaders.size, 0);
});

test('Origin: null is never allowed, even with **', () => {
  const { s } = run({ allowOrigins: '**' }, { headers: { origin: 'null' } });
  assert.equal(s.responseHeaders.get('access-control-allow-origin'), undefined);
});

test('private network only when asked for and enabled; timing origins', () => {
  const { reply } = run(
    { allowOrigins: '**', allowPrivateNetwork: true, timingAllowOrigins: '*' },
    { method: 'OPTIONS', headers: { origin: 'https://a.test', 'access-control-request-method': 'GET', 'access-control-request-private-network': 'true' } },
  );
  assert.equal(reply?.headers?.['access-control-allow-private-network'], 'true');
  assert.equal(reply?.headers?.['timing-allow-origin'], '*');
});

test('Gateway API semantics: "*" with credentials echoes the origin and the requested method', () => {
  const p = new CorsPolicy({ origins: ['*'], methods: ['*'], reflectMethods: true, headers: [], reflectHeaders: true, expose: [], credentials: true, maxAge: 5, starWithCredentials: true });
  const s = new FakeSession({ method: 'OPTIONS', headers: { origin: 'https://o.test', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-a' } });
  const r = p.handle(s);
  assert.equal(r?.headers?.['access-control-allow-origin'], 'https://o.test');
  assert.equal(r?.headers?.['access-control-allow-methods'], 'PUT');
  assert.equal(r?.headers?.['access-control-allow-headers'], 'x-a');
  assert.equal(r?.headers?.vary, 'Origin');
});
