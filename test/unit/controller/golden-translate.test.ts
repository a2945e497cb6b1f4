// Golden translator tests: each test/golden/translate/NAME.in.yaml is loaded through the same
// pipeline as the controller (parse, identify, validate, store, translate) with a fixed clock, and
// the statuses and the snapshot content are compared with NAME.out.yaml.
// `UPDATE_GOLDEN=1 npm test -- golden` rewrites the .out.yaml files (review the diff!).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { SchemaValidator } from '../../../src/api/index.js';
import { parseYamlFile } from '../../../src/controller/source/yaml-documents.js';
import { identifyAll } from '../../../src/controller/validate/identify.js';
import { ResourceStore } from '../../../src/controller/store/resource-store.js';
import { translate } from '../../../src/controller/translate/translate.js';
import { pluginConfigValidator } from '../../../src/controller/validate/plugin-configs.js';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { ROOT } from '../../helpers/edgion.js';

const DIR = path.join(ROOT, 'test', 'golden', 'translate');
const NOW = new Date('2026-01-01T00:00:00Z');
const validator = new SchemaValidator();
const registry = builtinRegistry();

function run(input: string): unknown {
  const file = parseYamlFile('in.yaml', input);
  const { resources, diagnostics } = identifyAll([file], validator, pluginConfigValidator(registry));
  const store = new ResourceStore(() => NOW);
  store.sync(resources);
  const views = store
    .all()
    .filter((r) => r.good)
    .map((r) => ({ kind: r.kind, namespace: r.namespace, name: r.name, key: r.key, obj: r.good!, generation: r.goodGeneration, order: r.order, previousStatus: undefined }));
  const rejected = store.all().filter((r) => !r.good).map((r) => ({ kind: r.kind, namespace: r.namespace, name: r.name, reason: r.diagnostics.map((d) => d.message).join('; ') }));
  const result = translate({ resources: views, rejected, controllerName: 'edgion.io/gateway-controller', now: NOW, plugins: registry });
  const { resources: _r, ...content } = result.content;
  return {
    statuses: Object.fromEntries([...result.statuses.entries()].sort(([a], [b]) => (a < b ? -1 : 1))),
    snapshot: content,
    diagnostics: [...diagnostics, ...store.all().flatMap((r) => r.diagnostics), ...result.diagnostics].map((d) => ({ severity: d.severity, resource: d.resource, path: d.path, message: d.message })),
  };
}

for (const name of fs.existsSync(DIR) ? fs.readdirSync(DIR).filter((f) => f.endsWith('.in.yaml')).sort() : []) {
  test(`golden translate: ${name.replace('.in.yaml', '')}`, () => {
    const got = JSON.parse(JSON.stringify(run(fs.readFileSync(path.join(DIR, name), 'utf8'))));
    const outFile = path.join(DIR, name.replace('.in.yaml', '.out.yaml'));
    if (process.env.UPDATE_GOLDEN || !fs.existsSync(outFile)) {
      fs.writeFileSync(outFile, stringify(got, { lineWidth: 0 }));
      if (!process.env.UPDATE_GOLDEN) assert.fail(`${outFile} did not exist; written now, review it and run again`);
      return;
    }
    assert.deepEqual(got, parse(fs.readFileSync(outFile, 'utf8')));
  });
}
