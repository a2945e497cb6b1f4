#!/usr/bin/env node
// Runs every compiled test (dist/test/**/*.test.js) with node:test. Unit and integration tests
// run in parallel; end-to-end tests (test/e2e) start real processes on fixed-free ports and run
// with less parallelism. Arguments filter test files by substring: `npm test -- route-table e2e/`.
// The last line is node:test's summary, plus a `N passed, N failed` line for CI.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const testRoot = path.join(root, 'dist', 'test');
const filters = process.argv.slice(2);

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? walk(p) : d.name.endsWith('.test.js') ? [p] : [];
  });
}

const all = walk(testRoot).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
const e2e = all.filter((f) => f.includes(`${path.sep}e2e${path.sep}`));
const rest = all.filter((f) => !e2e.includes(f));

function run(files, concurrency) {
  return new Promise((resolve) => {
    if (files.length === 0) return resolve({ pass: 0, fail: 0, code: 0 });
    const args = ['--no-node-snapshot', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${path.join(root, 'dist', `.tap-${concurrency}.txt`)}`, ...files];
    const child = spawn(process.execPath, args, { stdio: 'inherit', cwd: root, env: { ...process.env, EDGION_TEST: '1' } });
    child.on('exit', (code) => {
      const tap = fs.readFileSync(path.join(root, 'dist', `.tap-${concurrency}.txt`), 'utf8');
      const pass = Number(/^# pass (\d+)/m.exec(tap)?.[1] ?? 0);
      const fail = Number(/^# fail (\d+)/m.exec(tap)?.[1] ?? 0);
      resolve({ pass, fail, code: code ?? 1 });
    });
  });
}

const started = Date.now();
const a = await run(rest, 4);
const b = await run(e2e, 2);
const pass = a.pass + b.pass;
const fail = a.fail + b.fail;
console.log(`\n${all.length} test files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${pass} passed, ${fail} failed`);
process.exit(a.code || b.code || (fail ? 1 : 0));
