import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { AnyResource, HTTPRoute, ResourceByKind, Service } from '../../../src/api/generated/index.js';
import type { KindName } from '../../../src/api/kinds.js';
import { crdDir, repoRoot } from './fixtures.js';

// Compile-time checks: the generated map covers exactly the registry's kinds, and `kind`
// discriminates the union.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const sameKinds: Equal<keyof ResourceByKind, KindName> = true;
const discriminated: Equal<Extract<AnyResource, { kind: 'Service' }>, Service> = true;

const GENERATED_DIRS = ['src/api/schemas', 'src/api/generated'];

function listFiles(root: string): string[] {
  return GENERATED_DIRS.flatMap((d) => {
    const dir = path.join(root, d);
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.(json|ts)$/.test(f)).map((f) => `${d}/${f}`) : [];
  }).sort();
}

describe('generated schemas and types', () => {
  it('type-level checks hold', () => {
    assert.equal(sameKinds, true);
    assert.equal(discriminated, true);
    const route: HTTPRoute = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { rules: [{ matches: [{ path: { type: 'Exact', value: '/' } }] }] } };
    assert.equal(route.spec.rules?.[0]?.matches?.[0]?.path?.type, 'Exact');
  });

  it('are up to date with the CRDs (npm run gen:types regenerates them)', (t) => {
    const crds = crdDir();
    if (!crds) return t.skip('reference CRDs not found (../shared/reference/crds; set EDGION_CRDS_DIR): cannot check the generated files');
    const root = repoRoot();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edgion-gen-'));
    try {
      execFileSync(process.execPath, [path.join(root, 'scripts/gen-types.mjs'), '--crds', crds, '--out', tmp], { stdio: 'pipe' });
      const fresh = listFiles(tmp);
      assert.deepEqual(listFiles(root), fresh, 'the set of generated files differs: run npm run gen:types');
      const stale = fresh.filter((f) => fs.readFileSync(path.join(tmp, f), 'utf8') !== fs.readFileSync(path.join(root, f), 'utf8'));
      assert.deepEqual(stale, [], 'stale generated files: run npm run gen:types');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
