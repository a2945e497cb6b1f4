import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isPidAlive, isPidOurs, readUpRunFile, workPaths, writeJsonFileAtomic } from '../../../src/cli/run-files.js';
import { tempDir } from '../../helpers/run-cli.js';

const tmp = tempDir();
after(() => tmp.cleanup());

describe('run files', () => {
  it('lays out the work dir: run/<name>.json, logs/<name>.log, demo/', () => {
    const p = workPaths(path.join(tmp.dir, 'w'));
    assert.equal(p.runFile('controller'), path.join(tmp.dir, 'w', 'run', 'controller.json'));
    assert.equal(p.logFile('gateway'), path.join(tmp.dir, 'w', 'logs', 'gateway.log'));
    assert.equal(p.upRunFile, path.join(tmp.dir, 'w', 'run', 'up.json'));
    assert.equal(p.demoDir, path.join(tmp.dir, 'w', 'demo'));
  });

  it('writes atomically and reads back; a broken file reads as missing', async () => {
    const file = path.join(tmp.dir, 'w', 'run', 'up.json');
    await writeJsonFileAtomic(file, { pid: 42 });
    assert.deepEqual(await readUpRunFile(file), { pid: 42 });
    assert.ok(!existsSync(`${file}.${process.pid}.tmp`));
    await writeJsonFileAtomic(file, 'not an object');
    assert.equal(await readUpRunFile(file), undefined);
  });

  it('recognises live PIDs, and on Linux checks the command line before trusting an old PID', { skip: !existsSync('/proc/self/cmdline') }, () => {
    assert.ok(isPidAlive(process.pid));
    assert.ok(!isPidAlive(0));
    assert.ok(isPidOurs(process.pid, path.basename(process.execPath)));
    assert.ok(!isPidOurs(process.pid, 'edgion-ctl-is-not-this-test'));
  });
});
