// Plugin documentation stays complete and its examples keep working: every plugin type the registry
// knows (builtinRegistry().types()) and every stream plugin type has docs/plugins/<type>.md, and the
// first ```yaml block of a page that holds `kind: EdgionPlugins` (EdgionStreamPlugins for stream
// types) goes through the controller's own checks exactly as `edgion-ctl validate` runs them
// (runOffline: CRD schema, CEL rules, plugin registry validateEntry, translation). No resource of
// the example may be rejected, and the plugin resources may have no error and no warning.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runOffline } from '../../../src/controller/offline.js';
import { builtinRegistry } from '../../../src/plugins/registry.js';
import { STREAM_PLUGIN_TYPES } from '../../../src/plugins/stream/ip-restriction.js';
import { PLUGIN_STAGES } from '../../../src/ir/plugin.js';
import { ROOT } from '../../helpers/edgion.js';

const DOCS = path.join(ROOT, 'docs', 'plugins');
const PLUGIN_KINDS = new Set(['EdgionPlugins', 'EdgionStreamPlugins']);

/** The first ```yaml block of a page with a document of this kind. */
function firstExample(markdown: string, kind: string): string | undefined {
  const line = new RegExp(`^kind: ${kind}\\s*$`, 'm');
  for (const m of markdown.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)) {
    if (line.test(m[1]!)) return m[1];
  }
  return undefined;
}

/** Plugin types used in the example's resources of `kind` (every stage list). */
function typesIn(yamlText: string, kind: string): string[] {
  const out: string[] = [];
  for (const doc of parseAllDocuments(yamlText)) {
    const r = doc.toJS() as { kind?: string; spec?: Record<string, unknown> } | null;
    if (r?.kind !== kind) continue;
    const lists = kind === 'EdgionPlugins' ? PLUGIN_STAGES : ['plugins', 'tlsRoutePlugins'];
    for (const stage of lists) for (const e of (r.spec?.[stage] ?? []) as { type?: string }[]) out.push(String(e.type));
  }
  return out;
}

/** What the controller finds wrong with an example: rejected resources, problems of the plugin resources. */
function problemsOf(yamlText: string): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgion-doc-example-'));
  try {
    fs.writeFileSync(path.join(dir, 'example.yaml'), yamlText);
    const r = runOffline(dir);
    const rejected = r.rejected.map((x) => `rejected ${x.kind} ${x.namespace ?? ''}/${x.name}: ${x.reasons.join('; ')}`);
    const diagnostics = r.diagnostics
      .filter((d) => d.severity === 'error' || (d.resource !== undefined && PLUGIN_KINDS.has(d.resource.kind)))
      .map((d) => `${d.severity} ${d.resource ? `${d.resource.kind} ${d.resource.name}` : ''} ${d.path ?? ''}: ${d.message}`);
    if (r.resources === 0) return ['no resource was loaded from the example'];
    return [...new Set([...rejected, ...diagnostics])];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const pages = fs.readdirSync(DOCS).filter((f) => f.endsWith('.md'));
const read = (file: string): string => fs.readFileSync(path.join(DOCS, file), 'utf8');

test('every registered plugin type has docs/plugins/<type>.md', () => {
  const types = builtinRegistry().types();
  assert.ok(types.length > 20, `the registry lists ${types.length} types`);
  const missing = types.filter((t) => !pages.includes(`${t}.md`));
  assert.deepEqual(missing, [], `plugin types without a page in docs/plugins/: ${missing.join(', ')}`);
});

test('every stream plugin type has docs/plugins/<type>.md with an EdgionStreamPlugins example', () => {
  for (const t of STREAM_PLUGIN_TYPES) {
    assert.ok(pages.includes(`${t}.md`), `stream plugin ${t} has no page in docs/plugins/`);
    const example = firstExample(read(`${t}.md`), 'EdgionStreamPlugins');
    assert.ok(example, `docs/plugins/${t}.md has no yaml example with kind: EdgionStreamPlugins`);
    assert.ok(typesIn(example, 'EdgionStreamPlugins').includes(t), `the EdgionStreamPlugins example of ${t}.md does not use ${t}`);
    assert.deepEqual(problemsOf(example), [], `docs/plugins/${t}.md: the EdgionStreamPlugins example is not accepted`);
  }
});

test('the docs index lists every plugin page', () => {
  const index = read('README.md');
  const missing = builtinRegistry()
    .types()
    .filter((t) => !index.includes(`](${t}.md`));
  assert.deepEqual(missing, [], `docs/plugins/README.md does not link: ${missing.join(', ')}`);
});

describe('the first EdgionPlugins example of each page is valid', () => {
  const registered = new Set(builtinRegistry().types());
  for (const file of pages) {
    const type = file.slice(0, -3);
    const example = firstExample(read(file), 'EdgionPlugins');
    if (!registered.has(type) && example === undefined) continue; // a page about something else
    test(file, () => {
      assert.ok(example, `docs/plugins/${file} has no yaml example with kind: EdgionPlugins`);
      if (registered.has(type)) assert.ok(typesIn(example, 'EdgionPlugins').includes(type), `the EdgionPlugins example of ${file} does not use ${type}`);
      assert.deepEqual(problemsOf(example), [], `docs/plugins/${file}: the example is not accepted as it is`);
    });
  }
});

test('the example check catches a broken example', () => {
  const broken = `apiVersion: edgion.io/v1
kind: EdgionPlugins
metadata: { name: broken, namespace: shop }
spec:
  requestPlugins:
    - type: RateLimit
      config: { rate: -1, interval: 1s, key: [{ type: clientIp }] }
    - type: Mock
      config: { statusCode: 200, bodyy: typo }
`;
  const problems = problemsOf(broken);
  assert.ok(
    problems.some((p) => p.includes('RateLimit')),
    problems.join('\n'),
  );
  assert.ok(
    problemsOf(broken.replace('rate: -1', 'rate: 5')).some((p) => p.includes('bodyy')),
    'an unknown field (a warning) is reported too',
  );
  assert.deepEqual(problemsOf(broken.replace('rate: -1', 'rate: 5').replace('bodyy', 'body')), []);
});
