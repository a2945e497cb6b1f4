// GatewayClass status.supportedFeatures comes from one list (supported-features.ts); README.md's
// "Gateway API support" table must mark exactly those feature names `supported`. Feature names are
// the `code` spans of the table's Feature column; a row's Status cell starting with "supported"
// marks every name of the row supported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SUPPORTED_FEATURES, supportedFeatures } from '../../../src/controller/translate/supported-features.js';
import { translate } from '../../../src/controller/translate/translate.js';
import { ROOT } from '../../helpers/edgion.js';

interface Row {
  names: string[];
  status: string;
  line: number;
}

function readmeRows(): Row[] {
  const text = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf('## Gateway API support');
  assert.ok(start >= 0, 'README.md has a "Gateway API support" section');
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const firstLine = text.slice(0, start).split('\n').length;
  const rows: Row[] = [];
  section.split('\n').forEach((line, i) => {
    if (!line.startsWith('|') || /^\|\s*-/.test(line) || /^\|\s*Resource\s*\|/.test(line)) return;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    assert.equal(cells.length, 4, `README.md:${firstLine + i}: a row has 4 cells (Resource | Feature | Level | Status)`);
    const names = [...cells[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    for (const n of names) assert.match(n, /^[A-Z][A-Za-z0-9]+$/, `README.md:${firstLine + i}: \`${n}\` in the Feature column must be a conformance feature name`);
    rows.push({ names, status: cells[3]!, line: firstLine + i });
  });
  return rows;
}

test('README "Gateway API support" marks supported exactly the features of supported-features.ts', () => {
  const rows = readmeRows();
  const supported = new Set(rows.filter((r) => /^supported\b/.test(r.status)).flatMap((r) => r.names));
  const others = new Map(rows.filter((r) => !/^supported\b/.test(r.status)).flatMap((r) => r.names.map((n) => [n, r] as const)));
  const list = new Set(SUPPORTED_FEATURES);
  const missingFromList = [...supported].filter((n) => !list.has(n));
  const missingFromReadme = [...list].filter((n) => !supported.has(n));
  assert.deepEqual(missingFromList, [], 'marked supported in README.md but not in SUPPORTED_FEATURES');
  assert.deepEqual(missingFromReadme, [], 'in SUPPORTED_FEATURES but not marked supported in README.md');
  for (const [n, r] of others) assert.ok(!supported.has(n), `README.md:${r.line}: ${n} is also marked ${r.status}`);
  assert.equal(list.size, SUPPORTED_FEATURES.length, 'no duplicate names');
});

test('GatewayClass status.supportedFeatures: {name} objects, sorted, for our classes only', () => {
  const classes = ['edgion', 'other'].map((name, i) => ({
    kind: 'GatewayClass',
    namespace: undefined,
    name,
    key: `GatewayClass/${name}`,
    obj: { kind: 'GatewayClass', metadata: { name }, spec: { controllerName: name === 'edgion' ? 'edgion.io/gateway-controller' : 'example.com/other' } },
    generation: 1,
    order: i,
    previousStatus: undefined,
  }));
  const r = translate({ resources: classes, controllerName: 'edgion.io/gateway-controller', now: new Date() });
  const status = r.statuses.get('GatewayClass/edgion') as { supportedFeatures: { name: string }[] };
  assert.deepEqual(status.supportedFeatures, supportedFeatures());
  const names = status.supportedFeatures.map((f) => f.name);
  assert.deepEqual(names, [...names].sort());
  assert.ok(names.includes('HTTPRoute') && names.includes('BackendTLSPolicy'));
  assert.ok(status.supportedFeatures.length <= 64, 'the CRD allows at most 64 entries');
  assert.equal(r.statuses.get('GatewayClass/other'), undefined, 'classes of other controllers are left alone');
});
