// Corrections scripts/gen-types.mjs applies to the reference CRDs (CRD_CORRECTIONS there): the
// generated schemas carry them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SchemaValidator, validateResource } from '../../../src/api/index.js';

const validator = new SchemaValidator();
const plugins = (type: string) => ({
  apiVersion: 'edgion.io/v1',
  kind: 'EdgionPlugins',
  metadata: { name: 'p', namespace: 'default' },
  spec: { requestPlugins: [{ type, config: {} }] },
});

test('EdgionPlugins accepts UrlRewrite in requestPlugins (plugins.md §6, DECISIONS §41; missing from the CRD enum)', () => {
  const r = validateResource(validator, plugins('UrlRewrite'));
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.ok, true);
});

test('EdgionPlugins accepts ExtensionRef in upstreamResponseBodyFilterPlugins (plugins.md §1.1, §1.5; missing from the CRD enum)', () => {
  const r = validateResource(validator, { ...plugins('x'), spec: { upstreamResponseBodyFilterPlugins: [{ type: 'ExtensionRef', config: { name: 'other' } }] } });
  assert.deepEqual(r.diagnostics, []);
});

test('the requestPlugins type enum still rejects unknown types', () => {
  const r = validateResource(validator, plugins('NoSuchPlugin'));
  assert.equal(r.ok, false);
  assert.match(r.diagnostics.map((d) => `${d.path} ${d.message}`).join('\n'), /requestPlugins\[0\]\.type/);
});
