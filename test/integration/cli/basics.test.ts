// edgion-ctl as a program: help, version, usage errors (exit 2), unreachable (exit 3),
// and the --json rule (one document on stdout, errors included).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { oneJson, runCli } from '../../helpers/run-cli.js';

// A port nothing listens on: 1 is privileged and never bound in tests.
const NOBODY = 'http://127.0.0.1:1';

describe('edgion-ctl basics', () => {
  it('prints its version and the list of commands', async () => {
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^edgion\/0\.1\.0 /);
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    for (const cmd of ['up', 'down', 'status', 'get', 'apply', 'delete']) assert.match(help.stdout, new RegExp(`^  ${cmd}\\s`, 'm'), cmd);
  });

  it('exits 2 for an unknown command', async () => {
    const run = await runCli(['frobnicate']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /command frobnicate not found/);
  });

  it('exits 2 for a flag oclif cannot parse, with the message on stderr and nothing on stdout', async () => {
    const run = await runCli(['get', 'httproutes', '--bogus']);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^Error: Nonexistent flag: --bogus$/m);
    const badInt = await runCli(['up', '--admin-port', 'abc']);
    assert.equal(badInt.code, 2);
    assert.match(badInt.stderr, /Expected an integer/);
  });

  it('exits 2 with a JSON error document for usage errors under --json', async () => {
    const run = await runCli(['get', 'httproutes', '-o', 'xml', '--json']);
    assert.equal(run.code, 2);
    const doc = oneJson(run);
    assert.equal(doc.error.code, 'EDG_ERR_USAGE');
    assert.match(doc.error.message, /Expected --output=xml to be one of: table, wide, json, yaml/);
    assert.ok('details' in doc.error);
  });

  it('exits 2 for a missing required argument and for an unknown kind (listing the kinds)', async () => {
    assert.equal((await runCli(['get'])).code, 2);
    const run = await runCli(['get', 'frobnicators', '--json', '--controller-url', NOBODY]);
    assert.equal(run.code, 2);
    const doc = oneJson(run);
    assert.equal(doc.error.code, 'EDG_ERR_UNKNOWN_KIND');
    assert.ok(doc.error.details.kinds.includes('HTTPRoute'));
  });

  it('exits 3 with a hint naming the URL when the controller is not there', async () => {
    const run = await runCli(['get', 'httproutes', '--controller-url', NOBODY]);
    assert.equal(run.code, 3);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^Error: cannot reach the controller at http:\/\/127\.0\.0\.1:1 \(connection refused\)$/m);
    assert.match(run.stderr, /^Hint: .*URL from --controller-url.*edgion-ctl up/m);
    const json = await runCli(['get', 'httproutes', '--controller-url', NOBODY, '--json']);
    assert.equal(json.code, 3);
    assert.equal(oneJson(json).error.code, 'EDG_ERR_UNREACHABLE');
  });

  it('takes the controller URL from EDGION_CONTROLLER_URL', async () => {
    const run = await runCli(['get', 'httproutes'], { env: { EDGION_CONTROLLER_URL: NOBODY } });
    assert.equal(run.code, 3);
    assert.match(run.stderr, /127\.0\.0\.1:1 .*\n.*EDGION_CONTROLLER_URL/);
  });

  it('exits 2 for a --controller-url that is not a URL', async () => {
    const run = await runCli(['status', '--controller-url', 'ftp://x']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /must be an http:\/\/ or https:\/\/ URL/);
  });
});
