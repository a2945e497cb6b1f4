#!/usr/bin/env node
// Import boundaries (ARCHITECTURE.md): commands → cli → controller | gateway → plugins → ir | api → shared.
// The controller and the gateway never import each other; lower layers never import upper ones.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const src = path.join(root, 'src');
const FORBIDDEN = {
  shared: ['api', 'ir', 'controller', 'gateway', 'plugins', 'cli', 'commands', 'tui'],
  ir: ['api', 'controller', 'gateway', 'plugins', 'cli', 'commands', 'tui'],
  api: ['controller', 'gateway', 'plugins', 'cli', 'commands', 'tui'],
  plugins: ['controller', 'gateway', 'cli', 'commands', 'tui'],
  controller: ['gateway', 'cli', 'commands', 'tui'],
  gateway: ['controller', 'cli', 'commands', 'tui'],
  cli: ['commands'],
};

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? walk(p) : /\.tsx?$/.test(d.name) ? [p] : [];
  });
}

const problems = [];
for (const file of walk(src)) {
  const layer = path.relative(src, file).split(path.sep)[0];
  const banned = FORBIDDEN[layer];
  if (!banned) continue;
  const text = fs.readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
    const target = path.resolve(path.dirname(file), m[1]);
    const targetLayer = path.relative(src, target).split(path.sep)[0];
    if (banned.includes(targetLayer)) problems.push(`${path.relative(root, file)}: the ${layer} layer must not import ${targetLayer} (${m[1]})`);
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('layers ok');
