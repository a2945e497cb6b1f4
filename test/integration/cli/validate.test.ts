// `edgion-ctl validate` / `translate`: the controller's checks, locally, with CI-friendly exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../helpers/run-cli.js';

function tmpConf(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgion-validate-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const GOOD = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: edgion }
spec: { controllerName: edgion.io/gateway-controller }
`;
const BAD = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r, namespace: shop }
spec:
  rules:
    - matches:
        - path: { type: Prefix, value: / }
`;

test('a valid folder exits 0 and says so', async () => {
  const dir = tmpConf({ 'a.yaml': GOOD });
  const r = await runCli(['validate', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /1 files, 1 resources: 0 errors, 0 warnings — valid/);
});

test('problems are printed as file:line: Kind ns/name: path: reason and exit 1', async () => {
  const dir = tmpConf({ 'sub/route.yaml': BAD, 'a.yaml': GOOD });
  const r = await runCli(['validate', dir]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /sub\/route\.yaml:7: HTTPRoute shop\/r: spec\.rules\[0\]\.matches\[0\]\.path\.type: must be one of: Exact, PathPrefix, RegularExpression \(got "Prefix"\)/);
});

test('--json gives one document with the diagnostics; a missing path exits 2', async () => {
  const dir = tmpConf({ 'route.yaml': BAD });
  const r = await runCli(['validate', dir, '--json']);
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.error.code, 'EDG_ERR_INVALID');
  assert.equal(doc.error.details.rejected[0].name, 'r');
  assert.equal((await runCli(['validate', path.join(dir, 'nope')])).code, 2);
});

test('translate prints the snapshot', async () => {
  const dir = tmpConf({ 'a.yaml': GOOD });
  const r = await runCli(['translate', dir, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const snap = JSON.parse(r.stdout);
  assert.deepEqual(snap.httpRoutes, []);
  assert.ok(snap.resources.GatewayClass);
});
