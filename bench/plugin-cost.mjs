#!/usr/bin/env node
// In-process cost of one proxied request, no sockets: the gateway's own request path (HttpProxy,
// plugins, access log) driven with the objects of its HTTP/1.1 server path, the upstream answered
// in place. It measures the JavaScript the gateway runs per request, which wrk through the kernel
// cannot separate from syscalls and machine noise: a per-request figure that moves by tenths of a
// microsecond when the code does, plain route against the plugin route of conf/edgion/plugins.yaml.
//
//   npm run build && node bench/plugin-cost.mjs [requests per round, default 200000] [rounds, default 5]
//
// Both routes get the same request (Host, apikey, X-Forwarded-For), as in run.sh.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist', 'src');
const { runOffline } = await import(path.join(dist, 'controller/offline.js'));
const { DataPlane } = await import(path.join(dist, 'gateway/data-plane.js'));
const { H1Request, H1Response } = await import(path.join(dist, 'gateway/listeners/h1-exchange.js'));
const { silentLogger } = await import(path.join(dist, 'shared/logger.js'));
const { ClusterCounters, answerLeases } = await import(path.join(dist, 'gateway/plugins-engine/cluster-counters.js'));
const { LocalCounters } = await import(path.join(dist, 'gateway/plugins-engine/local-counters.js'));

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 5);

async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'edgion-plugin-cost-'));
const conf = path.join(work, 'conf');
fs.mkdirSync(conf);
const port = await freePort();
for (const f of fs.readdirSync(path.join(here, 'conf', 'edgion'))) {
  fs.writeFileSync(path.join(conf, f), fs.readFileSync(path.join(here, 'conf', 'edgion', f), 'utf8').replaceAll('18160', String(port)));
}
const off = runOffline(conf);
if (off.rejected.length) throw new Error(`bench configuration rejected: ${JSON.stringify(off.rejected)}`);
// Rate-limit counters as a worker of the gateway has them: batches lent by the primary's store
// (here in the same process, answered on the next turn of the event loop).
const store = new LocalCounters();
const counters = new ClusterCounters((m) => {
  const r = answerLeases(store, m.q);
  setImmediate(() => counters.onReplies({ t: 'lease-replies', r }));
  return true;
});
const dp = new DataPlane({ workDir: work, logger: silentLogger(), accessLog: process.env.BENCH_ACCESS_LOG !== '0', counters });
const applied = await dp.apply(off.snapshot);
if (applied.error) throw new Error(applied.error);

// The upstream: answers every request at once with what the bench backend (nginx) sends.
const BODY = Buffer.from('hello from the bench backend\n');
const controller = { pause() {}, resume() {}, abort() {}, paused: false, aborted: false, reason: null };
let upstreamHeadBytes = 0;
const pool = {
  dispatch(opts, handler) {
    // What the upstream client writes: the request line and the header block.
    let head = `${opts.method} ${opts.path} HTTP/1.1\r\n`;
    const h = opts.headers;
    for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
    upstreamHeadBytes += head.length;
    handler.onRequestStart(controller);
    handler.onResponseStart(controller, 200, {
      server: 'nginx/1.22.1',
      date: 'Sun, 29 Nov 2026 05:00:00 GMT',
      'content-type': 'text/plain',
      'content-length': String(BODY.length),
      connection: 'keep-alive',
    });
    handler.onResponseData(controller, BODY);
    handler.onResponseEnd(controller, {});
  },
  close() {},
  destroy() {},
};
dp.pools.get = () => pool;

let written = 0;
const socket = {
  remoteAddress: '127.0.0.1',
  remotePort: 40000,
  write(s) {
    written += s.length;
    return true;
  },
  cork() {},
  uncork() {},
  on() {},
  once() {},
  destroyed: false,
};
const owner = { socket, keepAliveTimeoutSec: () => 5, holdWrites() {}, responseDone() {}, abort() {} };
const common = ['apikey', 'bench-key-5f2a', 'X-Forwarded-For', '203.0.113.10', 'User-Agent', 'wrk', 'Accept', '*/*'];
const routes = {
  plain: ['Host', `127.0.0.1:${port}`, ...common],
  plugins: ['Host', 'plugins.bench', ...common],
};

const rt = dp.runtime;
const pr = rt.httpPorts.get(port);
let statusSeen = 0;
/** n requests, in bursts of 50 (wrk's connections) with a turn of the event loop between them. */
async function run(raw, n) {
  for (let done = 0; done < n; ) {
    const burst = Math.min(50, n - done);
    for (let i = 0; i < burst; i++) {
      const req = new H1Request(socket, 'GET', '/', raw);
      const res = new H1Response(owner, true, false);
      dp.proxy.handle(req, res, rt, pr, false);
      statusSeen = res.statusCode;
    }
    done += burst;
    await new Promise((ok) => setImmediate(ok));
  }
}

// Check once: the plugin route answers 200 with its headers, the plain route without them.
for (const [name, raw] of Object.entries(routes)) {
  let head = '';
  const w = socket.write;
  socket.write = (s) => ((head += s), true);
  await run(raw, 1);
  // The first rate-limit lease of a key is answered a turn or two later (sent once per turn).
  for (let i = 0; i < 10 && head === ''; i++) await new Promise((ok) => setImmediate(ok));
  socket.write = w;
  const has = /x-bench-plugins: on/i.test(head);
  if (!head.startsWith('HTTP/1.1 200') || has !== (name === 'plugins')) throw new Error(`${name} route answered unexpectedly:\n${head}`);
}

const warm = Math.min(N, 50_000);
const only = process.env.ROUTE; // one route only (profiling)
await run(routes.plain, warm);
await run(routes.plugins, warm);
const results = { plain: [], plugins: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const name of r % 2 ? ['plugins', 'plain'] : ['plain', 'plugins']) {
    if (only !== undefined && name !== only) continue;
    const t0 = process.cpuUsage();
    await run(routes[name], N);
    const cpu = process.cpuUsage(t0);
    results[name].push({ us: (cpu.user + cpu.system) / N });
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
// CPU time of the process per request (steal and waits of a busy machine are not in it).
const p = median(results.plain.map((x) => x.us)) ?? NaN;
const q = median(results.plugins.map((x) => x.us)) ?? NaN;
const fmt = (rs) => rs.map((x) => x.us.toFixed(2)).join(' ');
console.log(`requests per round ${N}, rounds ${ROUNDS}, access log ${process.env.BENCH_ACCESS_LOG === '0' ? 'off' : 'on'}, last status ${statusSeen}; CPU us per request, medians`);
console.log(`plain   ${p.toFixed(2)} us/request (rounds ${fmt(results.plain)})`);
console.log(`plugins ${q.toFixed(2)} us/request (rounds ${fmt(results.plugins)})`);
const low = (rs) => {
  const a = rs.map((x) => x.us).sort((x, y) => x - y);
  const k = Math.max(1, Math.floor(a.length / 4)); // mean of the fastest quarter: noise only ever adds
  return a.slice(0, k).reduce((x, y) => x + y, 0) / k;
};
console.log(`plugin route costs ${(q - p).toFixed(2)} us more in JS per request (${((q / p - 1) * 100).toFixed(0)}%); fastest quarter of rounds: ${low(results.plain).toFixed(2)} / ${low(results.plugins).toFixed(2)}, ${(low(results.plugins) - low(results.plain)).toFixed(2)} us more`);
await dp.stop?.();
fs.rmSync(work, { recursive: true, force: true });
process.exit(0);
