import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { demoFiles, writeDemoConfig } from '../../../src/cli/demo/demo-config.js';
import { tempDir } from '../../helpers/run-cli.js';

const tmp = tempDir();
after(() => tmp.cleanup());

function resources(echoPort: number, listenerPort: number): any[] {
  return demoFiles({ echoPort, listenerPort }).flatMap((f) => parseAllDocuments(f.text) as any[]).map((d) => d.toJS());
}

describe('demo configuration', () => {
  it('holds the GatewayClass, Gateway, Service, EndpointSlice and HTTPRoute the demo needs', () => {
    const all = resources(41000, 8080);
    const by = (kind: string) => all.find((r) => r.kind === kind);
    assert.deepEqual(all.map((r) => r.kind), ['GatewayClass', 'Gateway', 'Service', 'EndpointSlice', 'HTTPRoute']);
    assert.equal(by('GatewayClass').spec.controllerName, 'edgion.io/gateway-controller');
    const gw = by('Gateway');
    assert.equal(gw.metadata.namespace, 'default');
    assert.deepEqual(gw.spec.addresses, [{ type: 'IPAddress', value: '127.0.0.1' }]);
    assert.deepEqual(gw.spec.listeners.map((l: any) => [l.protocol, l.port]), [['HTTP', 8080]]);
    const slice = by('EndpointSlice');
    assert.equal(slice.metadata.labels['kubernetes.io/service-name'], 'demo-echo');
    assert.deepEqual(slice.endpoints[0].addresses, ['127.0.0.1']);
    assert.equal(slice.endpoints[0].conditions.ready, true);
    assert.equal(slice.ports[0].port, 41000);
  });

  it('routes / and /headers to the echo backend with header filters', () => {
    const route = resources(41000, 8080).find((r) => r.kind === 'HTTPRoute');
    assert.deepEqual(route.spec.parentRefs, [{ name: 'demo' }]);
    const [headers, root] = route.spec.rules;
    assert.equal(headers.matches[0].path.value, '/headers');
    assert.equal(headers.filters[0].type, 'RequestHeaderModifier');
    assert.equal(root.matches[0].path.value, '/');
    assert.deepEqual(root.filters[0].responseHeaderModifier.add, [{ name: 'x-served-by', value: 'edgion' }]);
    for (const rule of route.spec.rules) assert.deepEqual(rule.backendRefs, [{ name: 'demo-echo', port: 80 }]);
  });

  it('rewrites the files with ports at each start but keeps an edited routes.yaml', async () => {
    const dir = path.join(tmp.dir, 'demo');
    await writeDemoConfig(dir, { echoPort: 41000, listenerPort: 8080 });
    writeFileSync(path.join(dir, 'routes.yaml'), '# my edit\n');
    const written = await writeDemoConfig(dir, { echoPort: 42000, listenerPort: 8080 });
    assert.deepEqual(written.map((f) => path.basename(f)), ['gateway.yaml', 'backend.yaml']);
    assert.match(readFileSync(path.join(dir, 'backend.yaml'), 'utf8'), /port: 42000/);
    assert.equal(readFileSync(path.join(dir, 'routes.yaml'), 'utf8'), '# my edit\n');
  });
});
