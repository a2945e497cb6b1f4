// get / apply / delete against the fake controller admin API on 127.0.0.1:0.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { REJECT_ANNOTATION, startFakeController, startFakeGateway, type FakeController, type FakeGateway } from '../../helpers/fake-admin.js';
import { oneJson, runCli, tempDir } from '../../helpers/run-cli.js';

const tmp = tempDir();
let controller: FakeController;
let gateway: FakeGateway;
const ctl = (...args: string[]) => runCli([...args, '--controller-url', controller.url, '--gateway-url', gateway.url], { cwd: tmp.dir });

const seeded = [
  {
    kind: 'HTTPRoute',
    metadata: { name: 'web', namespace: 'acc', creationTimestamp: new Date(Date.now() - 2 * 86_400_000).toISOString() }, // "2d" for an hour: no race with a slow run
    spec: { hostnames: ['web.example'], parentRefs: [{ name: 'gw' }] },
    status: { parents: [{ parentRef: { name: 'gw' }, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }] }] },
  },
  {
    kind: 'HTTPRoute',
    metadata: { name: 'broken', namespace: 'acc', creationTimestamp: new Date().toISOString() },
    status: { parents: [{ parentRef: { name: 'gw' }, conditions: [{ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' }] }] },
  },
  { kind: 'HTTPRoute', metadata: { name: 'twin', namespace: 'a' } },
  { kind: 'HTTPRoute', metadata: { name: 'twin', namespace: 'b' } },
  { kind: 'GatewayClass', metadata: { name: 'edgion' }, spec: { controllerName: 'edgion.io/gateway-controller' } },
];

function writeFile(name: string, text: string): string {
  const file = path.join(tmp.dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

const routeYaml = (name: string, extra = '') => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${name}
  namespace: acc
${extra}spec:
  parentRefs: [{name: gw}]
`;

before(async () => {
  gateway = await startFakeGateway();
});
beforeEach(async () => {
  await controller?.close();
  controller = await startFakeController({ resources: structuredClone(seeded) });
});
after(async () => {
  await controller.close();
  await gateway.close();
  tmp.cleanup();
});

describe('get', () => {
  it('lists a kind as a table with the status derived from conditions', async () => {
    const run = await ctl('get', 'httproutes');
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAMESPACE\s+NAME\s+STATUS\s+AGE$/);
    assert.match(run.stdout, /^acc\s+broken\s+Rejected: NotAllowedByListeners\s+\d+s$/m);
    assert.match(run.stdout, /^acc\s+web\s+Accepted\s+2d$/m);
    assert.equal(lines.length, 5);
  });

  it('filters by namespace and says when nothing is there', async () => {
    const run = await ctl('get', 'HTTPRoute', '-n', 'acc', '-o', 'wide');
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^acc\s+web\s+Accepted\s+\S+\s+web\.example\s+acc\/gw\s+-$/m);
    assert.doesNotMatch(run.stdout, /twin/);
    const empty = await ctl('get', 'httproutes', '-n', 'nothing-here');
    assert.equal(empty.code, 0);
    assert.equal(empty.stdout, 'No resources found in nothing-here namespace.\n');
    const none = await ctl('get', 'grpcroutes');
    assert.equal(none.stdout, 'No resources found.\n');
  });

  it('shows one resource by name, looked up in all namespaces, as YAML or JSON', async () => {
    const run = await ctl('get', 'httproute', 'web', '-o', 'json');
    assert.equal(run.code, 0);
    assert.equal(JSON.parse(run.stdout).spec.hostnames[0], 'web.example');
    const yaml = await ctl('get', 'httproute', 'web', '-n', 'acc', '-o', 'yaml');
    assert.match(yaml.stdout, /^kind: HTTPRoute$/m);
    const cluster = await ctl('get', 'gc', 'edgion');
    assert.match(cluster.stdout, /^NAME\s+STATUS\s+AGE\nedgion\s+-\s+-$/m);
  });

  it('exits 1 for a resource that does not exist, 2 for a name in several namespaces', async () => {
    const missing = await ctl('get', 'httproute', 'nope', '-n', 'acc');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: HTTPRoute acc\/nope not found$/m);
    const twin = await ctl('get', 'httproute', 'twin');
    assert.equal(twin.code, 2);
    assert.match(twin.stderr, /exists in namespaces a, b/);
    assert.equal((await ctl('get', 'httproute', 'twin', '-n', 'b')).code, 0);
  });

  it('prints its own result document with --json (items with status and the resource)', async () => {
    const run = await ctl('get', 'httproutes', '-n', 'acc', '--json');
    assert.equal(run.code, 0);
    const doc = oneJson(run);
    assert.equal(doc.kind, 'HTTPRoute');
    assert.equal(doc.namespace, 'acc');
    assert.deepEqual(doc.items.map((i: any) => [i.name, i.status]), [
      ['broken', 'Rejected: NotAllowedByListeners'],
      ['web', 'Accepted'],
    ]);
    assert.equal(doc.items[1].resource.spec.hostnames[0], 'web.example');
    const missing = await ctl('get', 'httproute', 'nope', '-n', 'acc', '--json');
    assert.equal(missing.code, 1);
    assert.equal(oneJson(missing).error.code, 'EDG_ERR_NOT_FOUND');
  });

  it('sends the token and explains a refusal', async () => {
    await controller.close();
    controller = await startFakeController({ token: 's3cret', resources: structuredClone(seeded) });
    const refused = await ctl('get', 'httproutes');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^Hint: The admin API needs a token: pass --token or set EDGION_ADMIN_TOKEN\.$/m);
    const ok = await runCli(['get', 'httproutes', '--controller-url', controller.url], { env: { EDGION_ADMIN_TOKEN: 's3cret' } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(controller.requests.at(-1)?.authorization, 'Bearer s3cret');
  });
});

describe('apply', () => {
  it('applies files in one request and prints one line per resource', async () => {
    const file = writeFile('apply/routes.yaml', routeYaml('one') + '---\n' + routeYaml('two'));
    const run = await ctl('apply', '-f', file);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'HTTPRoute acc/one created\nHTTPRoute acc/two created\n');
    assert.equal(controller.requests.filter((r) => r.method === 'POST').length, 1);
    const again = await ctl('apply', '-f', file);
    assert.equal(again.stdout, 'HTTPRoute acc/one unchanged\nHTTPRoute acc/two unchanged\n');
  });

  it('exits 1 when a resource is rejected and prints its diagnostics under it', async () => {
    const file = writeFile('apply/mixed.yaml', routeYaml('good') + '---\n' + routeYaml('bad', `  annotations:\n    ${REJECT_ANNOTATION}: backend svc not found\n`));
    const run = await ctl('apply', '-f', file);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^HTTPRoute acc\/good created\nHTTPRoute acc\/bad rejected\n  applied\/HTTPRoute_acc_bad\.yaml:1: HTTPRoute acc\/bad: spec: backend svc not found\n$/);
    assert.match(run.stderr, /^Error: 1 of 2 resources rejected$/m);
    const json = await ctl('apply', '-f', file, '--json');
    assert.equal(json.code, 1);
    const doc = oneJson(json);
    assert.equal(doc.error.code, 'EDG_ERR_INVALID');
    assert.deepEqual(doc.results.map((r: any) => r.action), ['unchanged', 'rejected']);
  });

  it('--dry-run changes nothing', async () => {
    const file = writeFile('apply/dry.yaml', routeYaml('dry'));
    const run = await ctl('apply', '-f', file, '--dry-run');
    assert.equal(run.stdout, 'HTTPRoute acc/dry created (dry run)\n');
    assert.match(controller.requests.at(-1)!.url, /dryRun=true/);
    assert.equal((await ctl('get', 'httproute', 'dry', '-n', 'acc')).code, 1);
  });

  it('reads folders (recursively with -R) and stdin', async () => {
    writeFile('tree/a.yaml', routeYaml('a'));
    writeFile('tree/deeper/b.yml', routeYaml('b'));
    const flat = await ctl('apply', '-f', path.join(tmp.dir, 'tree'));
    assert.equal(flat.stdout, 'HTTPRoute acc/a created\n');
    const deep = await ctl('apply', '-f', path.join(tmp.dir, 'tree'), '-R');
    assert.equal(deep.stdout, 'HTTPRoute acc/a unchanged\nHTTPRoute acc/b created\n');
    const stdin = await runCli(['apply', '-f', '-', '--controller-url', controller.url], { input: routeYaml('piped') });
    assert.equal(stdin.stdout, 'HTTPRoute acc/piped created\n');
  });

  it('reports YAML mistakes with file:line and sends nothing', async () => {
    const file = writeFile('apply/broken.yaml', routeYaml('fine') + '---\nkind: HTTPRoute\nmetadata: {namespace: acc}\n');
    const before = controller.requests.length;
    const run = await ctl('apply', '-f', file);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /broken\.yaml:9: missing "metadata\.name"/);
    assert.match(run.stderr, /nothing was applied/);
    assert.equal(controller.requests.length, before);
  });

  it('exits 2 for a path that does not exist', async () => {
    const run = await ctl('apply', '-f', path.join(tmp.dir, 'nope.yaml'));
    assert.equal(run.code, 2);
    assert.match(run.stderr, /does not exist/);
  });

  it('--wait returns once the gateway runs the new snapshot', async () => {
    let calls = 0;
    // The gateway catches up on the third status call.
    gateway.configVersion = () => (++calls >= 3 ? controller.snapshotVersion : controller.snapshotVersion - 1);
    const file = writeFile('apply/wait.yaml', routeYaml('waited'));
    const run = await ctl('apply', '-f', file, '--wait', '--json');
    assert.equal(run.code, 0, run.stderr);
    const doc = oneJson(run);
    assert.equal(doc.snapshotVersion, 2);
    assert.equal(doc.gateway.configVersion, 2);
    assert.ok(calls >= 3);
  });

  it('--wait exits 1 with a clear message when the gateway stays behind', async () => {
    gateway.configVersion = 0;
    const file = writeFile('apply/late.yaml', routeYaml('late'));
    const run = await ctl('apply', '-f', file, '--wait', '--timeout', '1');
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Error: the gateway did not apply configuration v2 within 1s \(the gateway runs configuration v0\)$/m);
    gateway.configVersion = 1;
  });
});

describe('delete', () => {
  it('deletes by kind and name, looking the namespace up', async () => {
    const run = await ctl('delete', 'httproute', 'web');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'HTTPRoute acc/web deleted\n');
    assert.equal(controller.requests.at(-1)?.method, 'DELETE');
    assert.equal((await ctl('get', 'httproute', 'web', '-n', 'acc')).code, 1);
  });

  it('exits 1 for a resource that is not there, 0 with --ignore-not-found', async () => {
    const run = await ctl('delete', 'httproute', 'ghost', '-n', 'acc');
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Error: HTTPRoute acc\/ghost not found$/m);
    const ignored = await ctl('delete', 'httproute', 'ghost', '-n', 'acc', '--ignore-not-found', '--json');
    assert.equal(ignored.code, 0);
    assert.deepEqual(oneJson(ignored).notFound, [{ kind: 'HTTPRoute', namespace: 'acc', name: 'ghost' }]);
  });

  it('deletes what a file lists', async () => {
    const file = writeFile('delete/these.yaml', routeYaml('web') + '---\n' + routeYaml('broken'));
    const run = await ctl('delete', '-f', file);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'HTTPRoute acc/web deleted\nHTTPRoute acc/broken deleted\n');
  });

  it('exits 2 without KIND NAME or -f', async () => {
    assert.equal((await ctl('delete', 'httproute')).code, 2);
    assert.equal((await ctl('delete', 'httproute', 'x', '-f', 'y.yaml')).code, 2);
  });
});
