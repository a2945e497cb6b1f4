// ExtensionRef inside EdgionPlugins end to end (plugins.md §1.5): nesting runs the other set in
// place; a missing target, a cycle, or nesting too deep answers 500; a kind other than
// EdgionPlugins is skipped; a bad group is rejected.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Edgion } from '../../helpers/edgion.js';
import { startEcho, type EchoServer } from '../../helpers/echo-server.js';
import { freePort } from '../../helpers/free-port.js';
import { request } from '../../helpers/http.js';
import { base, condition, docs, plugins, route } from './util-kit.js';

let e: Edgion;
let echo: EchoServer;
let port: number;

const ref = (name: string, kind?: string) => ({ type: 'ExtensionRef', config: { group: 'edgion.io', ...(kind ? { kind } : {}), name } });
const setHeader = (name: string, value: string) => ({ type: 'RequestHeaderModifier', config: { add: [{ name, value }] } });

before(async () => {
  echo = await startEcho('echo');
  port = await freePort();
  const chain = Array.from({ length: 8 }, (_, i) => plugins(`deep-${i}`, { requestPlugins: [setHeader('x-depth', String(i)), ...(i < 7 ? [ref(`deep-${i + 1}`)] : [])] }));
  e = await Edgion.start({
    conf: {
      'base.yaml': base(port, echo.port),
      'plugins.yaml': docs([
        plugins('inner', { requestPlugins: [setHeader('x-order', 'inner')], upstreamResponseFilterPlugins: [{ type: 'ResponseHeaderModifier', config: { set: [{ name: 'x-inner-resp', value: '1' }] } }] }),
        plugins('outer', { requestPlugins: [setHeader('x-order', 'before'), ref('inner'), setHeader('x-order', 'after'), ref('other', 'SomethingElse')] }),
        plugins('to-missing', { requestPlugins: [ref('nope')] }),
        plugins('cycle-a', { requestPlugins: [ref('cycle-b')] }),
        plugins('cycle-b', { requestPlugins: [ref('cycle-a')] }),
        plugins('shallow', { requestPlugins: [ref('deep-3')] }),
        ...chain,
        plugins('bad', { requestPlugins: [{ type: 'ExtensionRef', config: { group: 'example.com', name: 'inner' } }] }),
        plugins('resp-mods', { upstreamResponseFilterPlugins: [{ type: 'ResponseHeaderModifier', config: { add: [{ name: 'x-resp-ref', value: 'once' }] } }] }),
        plugins('resp-only', { upstreamResponseFilterPlugins: [ref('resp-mods'), { type: 'ResponseHeaderModifier', config: { set: [{ name: 'x-after-ref', value: '1' }] } }] }),
        plugins('both-stages', { requestPlugins: [ref('resp-mods')], upstreamResponseFilterPlugins: [ref('resp-mods')] }),
        plugins('resp-cycle', { upstreamResponseFilterPlugins: [ref('resp-cycle')] }),
      ]),
      'routes.yaml': docs([
        route('outer', 'outer.test', echo.port, ['outer']),
        route('to-missing', 'missing.test', echo.port, ['to-missing']),
        route('cycle', 'cycle.test', echo.port, ['cycle-a']),
        route('deep', 'deep.test', echo.port, ['deep-0']),
        route('shallow', 'shallow.test', echo.port, ['shallow']),
        route('bad', 'bad.test', echo.port, ['bad']),
        route('resp-only', 'resp-only.test', echo.port, ['resp-only']),
        route('both-stages', 'both.test', echo.port, ['both-stages']),
        route('resp-cycle', 'resp-cycle.test', echo.port, ['resp-cycle']),
      ]),
    },
  });
});

after(async () => {
  await e?.stop();
  await echo?.close();
});

const get = (host: string) => request({ port, host, path: '/' });

test('the referenced set runs at that point, in that stage; its response stage runs too; other kinds are skipped', async () => {
  const r = await get('outer.test');
  assert.equal(r.status, 200);
  assert.equal(r.json.headers['x-order'], 'before,inner,after');
  assert.equal(r.headers['x-inner-resp'], '1');
});

test('an ExtensionRef in upstreamResponseFilterPlugins runs the other set\'s response filters in place', async () => {
  const r = await get('resp-only.test');
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-resp-ref'], 'once');
  assert.equal(r.headers['x-after-ref'], '1');
});

test('a set referenced from both stages runs its response filters once; a response-stage cycle is cut', async () => {
  assert.equal((await get('both.test')).headers['x-resp-ref'], 'once');
  assert.equal((await get('resp-cycle.test')).status, 200);
});

test('a missing target and a cycle answer 500', async () => {
  assert.equal((await get('missing.test')).status, 500);
  const cycle = await get('cycle.test');
  assert.equal(cycle.status, 500);
});

test('nesting deeper than 5 answers 500; up to 5 levels run', async () => {
  assert.equal((await get('deep.test')).status, 500);
  const ok = await get('shallow.test');
  assert.equal(ok.status, 200);
  assert.equal(ok.json.headers['x-depth'], '3,4,5,6,7');
});

test('a group other than edgion.io is rejected in the status', async () => {
  assert.equal((await get('bad.test')).status, 500);
  const acc = condition((await e.api('/api/v1/resources/EdgionPlugins/default/bad')).json, 'Accepted')!;
  assert.equal(acc.status, 'False');
  assert.match(acc.message, /config\.group: ExtensionRef: must be edgion\.io \(or empty\)/);
});
