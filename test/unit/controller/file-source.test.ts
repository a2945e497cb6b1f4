// The standalone folder source: nested folders, multi-document files, hidden files skipped,
// broken files keep their last good documents, line numbers for fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileSource } from '../../../src/controller/source/file-source.js';
import { parseYamlFile } from '../../../src/controller/source/yaml-documents.js';
import { silentLogger } from '../../../src/shared/logger.js';

function folder(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'edgion-fs-'));
}

test('nested folders, several documents per file, .yml too; hidden and other files skipped', () => {
  const dir = folder();
  fs.mkdirSync(path.join(dir, 'a/b'), { recursive: true });
  fs.mkdirSync(path.join(dir, '.hidden'));
  fs.writeFileSync(path.join(dir, 'a/b/two.yaml'), 'kind: A\n---\nkind: B\n---\n');
  fs.writeFileSync(path.join(dir, 'one.yml'), 'kind: C\n');
  fs.writeFileSync(path.join(dir, '.hidden/x.yaml'), 'kind: Hidden\n');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'kind: Text\n');
  const src = new FileSource({ dir, logger: silentLogger(), onChange: () => undefined });
  src.rescan();
  const files = src.files();
  assert.deepEqual(files.map((f) => f.file), ['a/b/two.yaml', 'one.yml']);
  assert.deepEqual(files[0]!.documents.map((d) => (d.value as { kind: string }).kind), ['A', 'B']);
});

test('a file that stops parsing keeps its last good documents and reports file and line', () => {
  const dir = folder();
  const file = path.join(dir, 'r.yaml');
  fs.writeFileSync(file, 'kind: Good\nmetadata: { name: x }\n');
  const src = new FileSource({ dir, logger: silentLogger(), onChange: () => undefined });
  src.rescan();
  fs.writeFileSync(file, 'kind: Good\nmetadata: { name: x\nspec: [\n');
  assert.equal(src.rescan(), true);
  assert.equal((src.files()[0]!.documents[0]!.value as { kind: string }).kind, 'Good');
  const err = src.diagnostics().find((d) => d.severity === 'error')!;
  assert.equal(err.location?.file, 'r.yaml');
  assert.ok((err.location?.line ?? 0) >= 2);
  assert.match(err.message, /YAML syntax error/);
});

test('unchanged files are not re-read; removed files disappear', () => {
  const dir = folder();
  fs.writeFileSync(path.join(dir, 'a.yaml'), 'kind: A\n');
  const src = new FileSource({ dir, logger: silentLogger(), onChange: () => undefined });
  assert.equal(src.rescan(), true);
  assert.equal(src.rescan(), false);
  fs.rmSync(path.join(dir, 'a.yaml'));
  assert.equal(src.rescan(), true);
  assert.equal(src.files().length, 0);
});

test('field paths map to their line', () => {
  const text = 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  rules:\n    - matches:\n        - path:\n            type: Bad\n';
  const doc = parseYamlFile('x.yaml', text).documents[0]!;
  assert.equal(doc.lineOf(['spec', 'rules', 0, 'matches', 0, 'path', 'type']), 9);
  assert.equal(doc.lineOf(['metadata', 'name']), 4);
  assert.equal(doc.lineOf(['nope']), 1);
});
