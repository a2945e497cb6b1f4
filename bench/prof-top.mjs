// Summarises V8 CPU profiles (node --cpu-prof; bench/run.sh writes them with BENCH_CPU_PROF=DIR):
// where the time goes, by area (project file, npm package, Node internals, GC) and by function.
//
//   node bench/prof-top.mjs PROFILE.cpuprofile|DIR [--top 25]
//
// Given a directory, it reads the largest .cpuprofile there: with `--workers 1` that is the worker
// serving traffic (the primary's profile is small). "self" is time in the function itself,
// "total" includes what it calls (counted once per stack even when the function recurses),
// "charged to the nearest project frame" puts library and native time under the src/ function
// that called it.
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const topIdx = args.indexOf('--top');
const TOP = topIdx >= 0 ? Number(args.splice(topIdx, 2)[1]) : 25;
const target = args[0];
if (!target) {
  console.error('usage: node bench/prof-top.mjs PROFILE.cpuprofile|DIR [--top N]');
  process.exit(2);
}

let file = target;
if (fs.statSync(target).isDirectory()) {
  const files = fs.readdirSync(target).filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(target, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
  if (!files.length) throw new Error(`no .cpuprofile in ${target}`);
  file = files[0];
}
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));

// Self time per node id, from the sample list and the time between samples.
const selfUs = new Map();
let totalUs = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i] ?? 0;
  selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + dt);
  totalUs += dt;
}
const byId = new Map(prof.nodes.map((n) => [n.id, n]));

/** Where a function lives: the project's own code, an npm package, Node itself, or V8. */
function area(cf) {
  const url = cf.url ?? '';
  if (!url) return cf.functionName.startsWith('(') ? cf.functionName : '(native/V8)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return `npm ${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const dist = url.indexOf('/dist/src/');
  return dist >= 0 ? `src/${url.slice(dist + 10).replace(/\.js$/, '.ts')}` : url.replace(/^file:\/\//, '');
}
function fnKey(cf) {
  const where = area(cf);
  return `${cf.functionName || '(anonymous)'}  ${where}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
}

// Walk the call tree once: self time per function and per area; total time per function
// (inclusive, counted once per stack).
const fnSelf = new Map();
const fnTotal = new Map();
const areaSelf = new Map();
function walk(id, onStack) {
  const node = byId.get(id);
  const key = fnKey(node.callFrame);
  const self = selfUs.get(id) ?? 0;
  fnSelf.set(key, (fnSelf.get(key) ?? 0) + self);
  const a = area(node.callFrame);
  areaSelf.set(a, (areaSelf.get(a) ?? 0) + self);
  let subtree = self;
  const first = !onStack.has(key);
  if (first) onStack.add(key);
  for (const c of node.children ?? []) subtree += walk(c, onStack);
  if (first) {
    onStack.delete(key);
    fnTotal.set(key, (fnTotal.get(key) ?? 0) + subtree);
  }
  return subtree;
}
walk(prof.nodes[0].id, new Set());

// Every sample charged to the nearest project (src/) frame on its stack, so that the time spent in
// Node, V8 and npm packages on behalf of a project function shows up under that function.
// Samples with no project frame are charged to the area of their nearest JS frame.
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const owner = new Map();
function ownerOf(id) {
  if (owner.has(id)) return owner.get(id);
  const cf = byId.get(id).callFrame;
  let o;
  if (area(cf).startsWith('src/')) o = fnKey(cf);
  else if (parent.has(id)) o = ownerOf(parent.get(id));
  else o = null;
  owner.set(id, o);
  return o;
}
function outsideArea(id) {
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const cf = byId.get(cur).callFrame;
    if (cf.url) return area(cf);
  }
  return area(byId.get(id).callFrame);
}
const byOwner = new Map();
for (const [id, us] of selfUs) {
  const o = ownerOf(id) ?? `(no project frame: ${outsideArea(id)})`;
  byOwner.set(o, (byOwner.get(o) ?? 0) + us);
}

const idle = (areaSelf.get('(idle)') ?? 0);
const busy = totalUs - idle;
const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
console.log(`${file}\n${(totalUs / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s not idle; percentages are of the non-idle time\n`);
console.log('self time by area:');
for (const [a, us] of [...areaSelf].filter(([a]) => a !== '(idle)').sort((x, y) => y[1] - x[1]).slice(0, TOP)) {
  console.log(`  ${pct(us)}  ${a}`);
}
console.log('\nfunctions by self time:');
for (const [k, us] of [...fnSelf].filter(([k]) => !k.startsWith('(idle)')).sort((x, y) => y[1] - x[1]).slice(0, TOP)) {
  console.log(`  ${pct(us)}  ${k}`);
}
console.log('\ntime charged to the nearest project frame (src/ function plus the Node/npm/V8 work it calls directly):');
for (const [k, us] of [...byOwner].filter(([k]) => !k.includes('(idle)')).sort((x, y) => y[1] - x[1]).slice(0, TOP)) {
  console.log(`  ${pct(us)}  ${k}`);
}
console.log('\nproject functions (src/) by total time (including what they call):');
for (const [k, us] of [...fnTotal].filter(([k]) => k.includes('  src/')).sort((x, y) => y[1] - x[1]).slice(0, TOP)) {
  console.log(`  ${pct(us)}  ${k}`);
}
