import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CliError } from '../../../src/cli/errors.js';
import { readManifests, toApplyBody } from '../../../src/cli/manifests.js';
import { normalizeUrl, resolveTarget } from '../../../src/cli/targets.js';
import { tempDir } from '../../helpers/run-cli.js';

const tmp = tempDir();
after(() => tmp.cleanup());

describe('resolveTarget', () => {
  const workDir = path.join(tmp.dir, 'work');
  mkdirSync(path.join(workDir, 'run'), { recursive: true });
  writeFileSync(
    path.join(workDir, 'run', 'controller.json'),
    JSON.stringify({ name: 'controller', pid: 1, ports: { admin: 41234, grpc: 41235 }, adminUrl: 'http://127.0.0.1:41234' }),
  );
  writeFileSync(path.join(workDir, 'run', 'gateway.json'), JSON.stringify({ name: 'gateway', pid: 2, ports: { admin: 45678 } }));

  it('prefers the flag, then the environment, then the run file, then the default port', async () => {
    const env = { EDGION_CONTROLLER_URL: 'http://10.0.0.1:9000' };
    const base = { name: 'controller' as const, workDir, token: undefined };
    assert.equal((await resolveTarget({ ...base, flagValue: 'http://h:1/', env })).url, 'http://h:1');
    assert.deepEqual(
      await resolveTarget({ ...base, flagValue: undefined, env }).then((t) => [t.url, t.source]),
      ['http://10.0.0.1:9000', 'env'],
    );
    assert.deepEqual(
      await resolveTarget({ ...base, flagValue: undefined, env: {} }).then((t) => [t.url, t.source]),
      ['http://127.0.0.1:41234', 'run-file'],
    );
    const fallback = await resolveTarget({ ...base, flagValue: undefined, env: {}, workDir: path.join(tmp.dir, 'none') });
    assert.deepEqual([fallback.url, fallback.source], ['http://127.0.0.1:5800', 'default']);
  });

  it('builds the gateway URL from ports.admin when the run file has no adminUrl', async () => {
    const t = await resolveTarget({ name: 'gateway', flagValue: undefined, env: {}, workDir, token: 'tok' });
    assert.equal(t.url, 'http://127.0.0.1:45678');
    assert.equal(t.token, 'tok');
  });

  it('accepts host:port and rejects what is not an http URL as a usage error', () => {
    assert.equal(normalizeUrl('127.0.0.1:5800', 'x'), 'http://127.0.0.1:5800');
    assert.throws(() => normalizeUrl('ftp://h', '--controller-url'), (e: unknown) => e instanceof CliError && e.exitCode === 2);
    assert.throws(() => normalizeUrl('http://', '--controller-url'), (e: unknown) => e instanceof CliError && e.exitCode === 2);
  });
});

describe('readManifests', () => {
  const dir = path.join(tmp.dir, 'conf');
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(
    path.join(dir, 'a.yaml'),
    '# routes\nkind: HTTPRoute\nmetadata:\n  name: one\n  namespace: acc\n---\n---\nkind: Service\nmetadata: {name: two}\n',
  );
  writeFileSync(path.join(dir, 'notes.txt'), 'not yaml: [');
  writeFileSync(path.join(dir, 'sub', 'b.yml'), 'kind: Gateway\nmetadata:\n  name: three\n');

  it('reads every document of the *.yaml/*.yml files of a folder, skipping empty documents', async () => {
    const set = await readManifests([dir], false);
    assert.deepEqual(set.diagnostics, []);
    assert.deepEqual(
      set.docs.map((d) => [d.kind, d.namespace, d.name, d.index]),
      [
        ['HTTPRoute', 'acc', 'one', 0],
        ['Service', undefined, 'two', 2],
      ],
    );
  });

  it('goes into subfolders only with -R', async () => {
    const set = await readManifests([dir], true);
    assert.deepEqual(
      set.docs.map((d) => d.name),
      ['one', 'two', 'three'],
    );
  });

  it('reports YAML mistakes and missing fields with file and line, as diagnostics', async () => {
    const bad = path.join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, 'kind: HTTPRoute\nmetadata:\n  name: ok\n---\nkind: Service\nmetadata: {}\n---\nkind: [unclosed\n');
    const set = await readManifests([bad], false);
    assert.equal(set.docs.length, 1);
    assert.equal(set.diagnostics.length, 2);
    assert.equal(set.diagnostics[0]!.message, 'missing "metadata.name"');
    assert.equal(set.diagnostics[0]!.location?.line, 5);
    assert.equal(set.diagnostics[1]!.code, 'EDG_YAML_SYNTAX');
    assert.equal(set.diagnostics[1]!.location?.file, bad);
  });

  it('reads stdin for "-"', async () => {
    const set = await readManifests(['-'], false, async () => 'kind: Secret\nmetadata: {name: s, namespace: x}\n');
    assert.equal(set.docs[0]!.file, '<stdin>');
    assert.equal(set.docs[0]!.name, 's');
  });

  it('fails with a usage error (exit 2) for a path that does not exist', async () => {
    await assert.rejects(readManifests([path.join(tmp.dir, 'missing.yaml')], false), (e: unknown) => {
      return e instanceof CliError && e.exitCode === 2 && e.code === 'EDG_ERR_PATH_NOT_FOUND';
    });
  });

  it('joins documents into one multi-document body, comments kept', async () => {
    const set = await readManifests([path.join(dir, 'a.yaml')], false);
    const body = toApplyBody(set.docs);
    assert.equal(body, '# routes\nkind: HTTPRoute\nmetadata:\n  name: one\n  namespace: acc\n---\nkind: Service\nmetadata: { name: two }\n');
  });
});
