import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { formatApplyResults } from '../../../src/cli/apply.js';
import { renderGet, type GetResult } from '../../../src/cli/get.js';
import { assessStatus, renderStatus, type StatusReport } from '../../../src/cli/status.js';

const route = {
  kind: 'HTTPRoute',
  metadata: { name: 'web', namespace: 'acc', creationTimestamp: '2025-01-01T00:00:00Z' },
  spec: { hostnames: ['a.example', 'b.example'], parentRefs: [{ name: 'gw', sectionName: 'http' }], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] },
};

function result(items: GetResult['items'], extra: Partial<GetResult> = {}): GetResult {
  return { kind: 'HTTPRoute', scope: 'Namespaced', namespace: null, name: null, items, ...extra };
}

const item = { kind: 'HTTPRoute', namespace: 'acc', name: 'web', status: 'Accepted', age: '5m', createdAt: null, resource: route };

describe('renderGet', () => {
  it('prints NAMESPACE, NAME, STATUS, AGE', async () => {
    assert.deepEqual(await renderGet(result([item]), 'table'), ['NAMESPACE   NAME   STATUS     AGE', 'acc         web    Accepted   5m']);
  });

  it('adds hostnames, parents and backends for routes in wide output', async () => {
    const [header, row] = await renderGet(result([item]), 'wide');
    assert.match(header!, /HOSTNAMES\s+PARENTS\s+BACKENDS$/);
    assert.match(row!, /a\.example,b\.example\s+acc\/gw:http\s+svc:80$/);
  });

  it('leaves NAMESPACE out for cluster-scoped kinds', async () => {
    const gc = { ...item, kind: 'GatewayClass', namespace: null, name: 'edgion', resource: { kind: 'GatewayClass', metadata: { name: 'edgion' } } };
    const lines = await renderGet(result([gc], { kind: 'GatewayClass', scope: 'Cluster' }), 'table');
    assert.equal(lines[0], 'NAME     STATUS     AGE');
  });

  it('says when nothing was found, naming the namespace if one was asked for', async () => {
    assert.deepEqual(await renderGet(result([]), 'table'), ['No resources found.']);
    assert.deepEqual(await renderGet(result([], { namespace: 'acc' }), 'table'), ['No resources found in acc namespace.']);
  });

  it('prints the resources themselves with -o json and -o yaml', async () => {
    const list = JSON.parse((await renderGet(result([item]), 'json')).join('\n'));
    assert.deepEqual(list, { items: [route] });
    const one = parse((await renderGet(result([item], { name: 'web' }), 'yaml')).join('\n'));
    assert.deepEqual(one, route);
  });
});

describe('formatApplyResults', () => {
  it('prints one line per resource and its diagnostics indented under it', () => {
    const lines = formatApplyResults(
      [
        { kind: 'HTTPRoute', namespace: 'acc', name: 'foo', action: 'created' },
        {
          kind: 'HTTPRoute',
          namespace: 'acc',
          name: 'bar',
          action: 'rejected',
          diagnostics: [{ severity: 'error', code: 'EDG_SCHEMA', path: 'spec.rules[0]', message: 'bad match', location: { file: 'applied/x.yaml', line: 3 } }],
        },
        { kind: 'GatewayClass', namespace: null, name: 'edgion', action: 'unchanged' },
      ],
      false,
    );
    assert.deepEqual(lines, [
      'HTTPRoute acc/foo created',
      'HTTPRoute acc/bar rejected',
      '  applied/x.yaml:3: spec.rules[0]: bad match',
      'GatewayClass edgion unchanged',
    ]);
  });
  it('marks dry runs', () => {
    assert.deepEqual(formatApplyResults([{ kind: 'Service', namespace: 'a', name: 's', action: 'created', dryRun: true }], true), [
      'Service a/s created (dry run)',
    ]);
  });
});

function report(overrides: Partial<StatusReport> = {}): StatusReport {
  return {
    ready: true,
    controller: {
      url: 'http://127.0.0.1:5800',
      reachable: true,
      error: null,
      status: {
        controller: { version: '0.1.0', pid: 10, startedAt: '2025-01-01T00:00:00Z', confDir: '/conf', mode: 'standalone' },
        snapshot: { version: 7 },
        gateways: [{ id: 'g1', name: 'gw-1', pid: 11, ackedVersion: 7 }],
        resources: { total: 3, byKind: { HTTPRoute: 2, Gateway: 1 }, rejected: [] },
      },
    },
    gateway: {
      url: 'http://127.0.0.1:5900',
      reachable: true,
      ready: true,
      error: null,
      status: {
        gateway: { version: '0.1.0', pid: 11, startedAt: '2025-01-01T00:00:00Z', workers: 1 },
        ready: true,
        controller: { address: '127.0.0.1:5810', connected: true },
        config: { version: 7 },
        listeners: [{ port: 8080, address: '0.0.0.0', protocol: 'HTTP', gateways: ['default/demo'], bound: true, error: null }],
        requests: { total: 5, inFlight: 1 },
      },
    },
    config: { controllerVersion: 7, gatewayVersion: 7, inSync: true },
    rejected: [],
    ...overrides,
  };
}

const hints = { controller: 'start the controller', gateway: 'start the gateway' };

describe('renderStatus / assessStatus', () => {
  it('summarises processes, versions, listeners and resources', () => {
    const text = renderStatus(report(), new Date('2025-01-01T00:05:00Z')).join('\n');
    assert.match(text, /^Controller\s+http:\/\/127\.0\.0\.1:5800\s+pid 10\s+v0\.1\.0\s+up 5m\s+standalone\s+conf \/conf$/m);
    assert.match(text, /^Gateway\s+http:\/\/127\.0\.0\.1:5900\s+pid 11 .*\bready\b/m);
    assert.match(text, /^Config\s+controller v7, gateway v7 \(in sync\)$/m);
    assert.match(text, /^Listeners\s+0\.0\.0\.0:8080\s+HTTP\s+default\/demo\s+bound$/m);
    assert.match(text, /^Resources\s+3 total: Gateway 1, HTTPRoute 2$/m);
    assert.equal(assessStatus(report(), true, hints), null);
  });

  it('lists rejected resources with reasons; --strict makes them a failure', () => {
    const r = report({ rejected: [{ kind: 'HTTPRoute', namespace: 'acc', name: 'bad', reasons: ['no such backend', 'bad path'] }] });
    assert.match(renderStatus(r).join('\n'), /^Rejected\s+HTTPRoute acc\/bad: no such backend; bad path$/m);
    assert.equal(assessStatus(r, false, hints), null);
    assert.equal(assessStatus(r, true, hints)?.exitCode, 1);
  });

  it('fails with exit 1 when the gateway is not ready, and 3 when a process is unreachable', () => {
    const notReady = report({ ready: false, gateway: { ...report().gateway, ready: false } });
    assert.match(renderStatus(notReady).join('\n'), /NOT READY/);
    assert.equal(assessStatus(notReady, false, hints)?.code, 'EDG_ERR_NOT_READY');
    const down = report({
      ready: false,
      gateway: { url: 'http://127.0.0.1:5900', reachable: false, ready: false, error: { code: 'EDG_ERR_UNREACHABLE', message: 'cannot reach' }, status: null },
    });
    assert.match(renderStatus(down).join('\n'), /^Gateway\s+http:\/\/127\.0\.0\.1:5900\s+UNREACHABLE$/m);
    const problem = assessStatus(down, false, hints);
    assert.equal(problem?.exitCode, 3);
    assert.equal(problem?.hint, 'start the gateway');
  });
});
