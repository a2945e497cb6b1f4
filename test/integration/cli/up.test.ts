// `edgion-ctl up` / `down` for real, with FAKE controller and gateway programs
// (test/helpers/fake-*-process.ts) standing in for the ones built on other branches.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fakeBinsEnv, freePort, isAlive, LiveCli, oneJson, readJson, runCli, tempDir, waitUntil } from '../../helpers/run-cli.js';

const tmp = tempDir();
const live: LiveCli[] = [];
after(() => {
  for (const l of live) l.kill();
  tmp.cleanup();
});

let n = 0;
function dirs(): { work: string; conf: string } {
  n += 1;
  const work = path.join(tmp.dir, `w${n}`);
  const conf = path.join(tmp.dir, `conf${n}`);
  mkdirSync(conf, { recursive: true });
  return { work, conf };
}

const PORTS = ['--admin-port', '0', '--grpc-port', '0', '--gateway-admin-port', '0'];

function startUp(args: string[], gatewayMode = 'ok', env: NodeJS.ProcessEnv = {}): LiveCli {
  const cli = new LiveCli(['up', ...PORTS, ...args], { env: { ...fakeBinsEnv(gatewayMode), ...env }, cwd: tmp.dir });
  live.push(cli);
  return cli;
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
}

// Tests are independent (own work dir, port 0 everywhere), so they run side by side.
describe('up (foreground)', { concurrency: true }, () => {
  it('starts controller then gateway, says what runs where, and stops cleanly on a group SIGTERM', async () => {
    const { work, conf } = dirs();
    // The children take 100 ms to drain after SIGTERM, so a second SIGTERM sent in
    // that window by the supervisor would show in their signal logs.
    const up = startUp(['--conf-dir', conf, '--work-dir', work], 'ok', { FAKE_STOP_DELAY_MS: '100' });
    await up.waitFor(/edgion is up \(supervisor pid \d+/);
    const info = readJson(path.join(work, 'run', 'up.json'));
    assert.match(up.stdout, new RegExp(`controller   pid ${info.controllerPid}   admin http://127\\.0\\.0\\.1:${info.ports.controllerAdmin}   grpc 127\\.0\\.0\\.1:${info.ports.controllerGrpc}`));
    assert.match(up.stdout, /^\[controller\] fake controller: starting with conf dir /m);
    assert.match(up.stdout, /^\[gateway\] fake gateway: admin /m);
    // The gateway was pointed at the controller's real gRPC port (learned from its run file).
    const gatewayStart = JSON.parse(lines(path.join(work, 'fake-gateway-starts.log'))[0]!);
    assert.equal(gatewayStart.args[gatewayStart.args.indexOf('--controller') + 1], `127.0.0.1:${info.ports.controllerGrpc}`);
    assert.ok(isAlive(info.controllerPid) && isAlive(info.gatewayPid));

    // status finds everything through the work dir's run files.
    const status = await runCli(['status', '--work-dir', work]);
    assert.equal(status.code, 0, status.stdout + status.stderr);

    up.signalGroup('SIGTERM'); // what the acceptance harness does
    const exit = await up.exited;
    assert.equal(exit.code, 0);
    assert.doesNotMatch(up.output, /restarting/);
    assert.ok(!isAlive(info.controllerPid) && !isAlive(info.gatewayPid));
    assert.ok(!existsSync(path.join(work, 'run', 'up.json')), 'up.json removed');
    // Each child saw exactly one SIGTERM: the group signal, no second one from the supervisor.
    assert.equal(lines(path.join(work, 'fake-gateway-signals.log')).length, 1);
    assert.equal(lines(path.join(work, 'fake-controller-signals.log')).length, 1);
  });

  it('forwards SIGTERM to the children when only the supervisor is signalled', async () => {
    const { work, conf } = dirs();
    const up = startUp(['--conf-dir', conf, '--work-dir', work]);
    await up.waitFor(/edgion is up/);
    const info = readJson(path.join(work, 'run', 'up.json'));
    process.kill(up.child.pid!, 'SIGTERM');
    assert.equal((await up.exited).code, 0);
    assert.ok(!isAlive(info.controllerPid) && !isAlive(info.gatewayPid));
    assert.deepEqual(lines(path.join(work, 'fake-gateway-signals.log')), [`${info.gatewayPid} SIGTERM`]);
  });

  it('restarts a gateway that dies, says so, and records the new PID', async () => {
    const { work, conf } = dirs();
    const up = startUp(['--conf-dir', conf, '--work-dir', work], 'crash-after-ready-once');
    await up.waitFor(/edgion is up/);
    const first = readJson(path.join(work, 'run', 'up.json')).gatewayPid;
    await up.waitFor(/^gateway exited with code 1; restarting in 1s$/m, 30_000);
    assert.match(up.output, /\[gateway\] fake gateway: simulated crash after ready/);
    const restarted = await up.waitFor(/^gateway restarted \(pid (\d+)\)$/m, 30_000);
    const second = Number(restarted[1]);
    assert.notEqual(second, first);
    await waitUntil(() => readJson(path.join(work, 'run', 'up.json')).gatewayPid === second, 5000, 'up.json to name the new gateway');
    up.signalGroup('SIGINT');
    assert.equal((await up.exited).code, 0);
  });

  it('restarts a gateway that crashes during startup and still becomes ready', async () => {
    const { work, conf } = dirs();
    const up = startUp(['--conf-dir', conf, '--work-dir', work], 'crash-at-first-start');
    await up.waitFor(/edgion is up/);
    assert.match(up.output, /^gateway exited with code 1; restarting in 1s$/m);
    up.signalGroup('SIGTERM');
    assert.equal((await up.exited).code, 0);
  });

  it('gives up after --timeout when the gateway never gets ready: shows why, stops everything, exits 1', async () => {
    const { work, conf } = dirs();
    const started = Date.now();
    const up = startUp(['--conf-dir', conf, '--work-dir', work, '--timeout', '6'], 'never-ready'); // long enough for the fake to start on a loaded CI machine
    const exit = await up.exited;
    assert.equal(exit.code, 1);
    assert.ok(Date.now() - started < 40000, 'gave up, not waiting forever');
    assert.match(up.output, /gateway did not become ready within 6s\. Last lines of its output:/);
    assert.match(up.output, /^ {2}fake gateway: waiting for a configuration that never comes$/m);
    assert.match(up.stderr, /^Error: gateway did not become ready within 6s$/m);
    const starts = lines(path.join(work, 'fake-gateway-starts.log')).map((l) => JSON.parse(l).pid as number);
    const controllers = lines(path.join(work, 'fake-controller-starts.log')).map((l) => JSON.parse(l).pid as number);
    for (const pid of [...starts, ...controllers]) assert.ok(!isAlive(pid), `pid ${pid} stopped`);
  });

  it('refuses a busy admin port with a clear message (exit 1) and starts nothing', async () => {
    const { work, conf } = dirs();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const ports = ['--admin-port', String(port), '--grpc-port', '0', '--gateway-admin-port', '0'];
      const run = await runCli(['up', ...ports, '--conf-dir', conf, '--work-dir', work], {
        env: fakeBinsEnv(),
      });
      assert.equal(run.code, 1);
      assert.match(run.stderr, new RegExp(`^Error: port ${port} \\(controller admin API\\) is already in use on 127\\.0\\.0\\.1$`, 'm'));
      assert.match(run.stderr, /--admin-port \(0 picks a free one\)/);
      assert.ok(!existsSync(path.join(work, 'fake-controller-starts.log')), 'no child started');
    } finally {
      blocker.close();
    }
  });

  it('fails fast (no restart loop) when a child dies with EADDRINUSE', async () => {
    const { work, conf } = dirs();
    const started = Date.now();
    // A long --timeout, so that giving up early is proof of the fast path even on a loaded CI
    // machine (this suite runs its tests side by side; one start alone takes ~1.5 s).
    const up = startUp(['--conf-dir', conf, '--work-dir', work, '--timeout', '120'], 'eaddrinuse');
    assert.equal((await up.exited).code, 1);
    assert.ok(Date.now() - started < 60000, 'did not wait for --timeout');
    assert.match(up.stderr, /^Error: gateway could not bind its port: Error: listen EADDRINUSE/m);
    assert.doesNotMatch(up.output, /restarting in|did not become ready/);
    assert.equal(lines(path.join(work, 'fake-gateway-starts.log')).length, 1);
  });

  it('with --json prints one JSON document (up.json) when ready; process output goes to stderr', async () => {
    const { work, conf } = dirs();
    const up = startUp(['--conf-dir', conf, '--work-dir', work, '--json']);
    await waitUntil(() => up.stdout.trim().endsWith('}'), 15000, 'the JSON document');
    const doc = JSON.parse(up.stdout);
    assert.equal(doc.pid, up.child.pid);
    assert.equal(doc.confDir, conf);
    assert.match(up.stderr, /\[controller\] fake controller/);
    up.signalGroup('SIGTERM');
    assert.equal((await up.exited).code, 0);
    assert.deepEqual(JSON.parse(up.stdout), doc, 'nothing else on stdout after stopping');
  });

  it('exits 1 with a clear message when the controller program is missing', async () => {
    const { work, conf } = dirs();
    const run = await runCli(['up', ...PORTS, '--conf-dir', conf, '--work-dir', work], {
      env: { ...fakeBinsEnv(), EDGION_CONTROLLER_BIN: path.join(tmp.dir, 'no-such-controller.js') },
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Error: cannot find the controller program at .*no-such-controller\.js$/m);
    assert.match(run.stderr, /^Hint: Build the project first/m);
  });

  it('exits 2 when --conf-dir is not a folder', async () => {
    const run = await runCli(['up', ...PORTS, '--conf-dir', path.join(tmp.dir, 'missing'), '--work-dir', path.join(tmp.dir, 'wx')], { env: fakeBinsEnv() });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /is not a folder/);
  });
});

describe('up --detach and down', { concurrency: true }, () => {
  it('runs in the background, returns the PIDs, and down stops everything', async () => {
    const { work, conf } = dirs();
    const run = await runCli(['up', '-d', ...PORTS, '--conf-dir', conf, '--work-dir', work, '--json'], { env: fakeBinsEnv(), cwd: tmp.dir });
    assert.equal(run.code, 0, run.stderr);
    const doc = oneJson(run);
    for (const pid of [doc.pid, doc.controllerPid, doc.gatewayPid]) assert.ok(isAlive(pid), `pid ${pid} runs`);
    assert.equal(doc.detached, true);
    assert.deepEqual(readJson(path.join(work, 'run', 'up.json')), doc);
    assert.match(readFileSync(path.join(work, 'logs', 'up.log'), 'utf8'), /edgion is running in the background/);

    const again = await runCli(['up', '-d', ...PORTS, '--conf-dir', conf, '--work-dir', work], { env: fakeBinsEnv() });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already running/);

    assert.equal((await runCli(['status', '--work-dir', work])).code, 0);

    const down = await runCli(['down', '--work-dir', work]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, new RegExp(`^stopped edgion from .*supervisor \\(pid ${doc.pid}\\), controller \\(pid ${doc.controllerPid}\\), gateway \\(pid ${doc.gatewayPid}\\)$`, 'm'));
    for (const pid of [doc.pid, doc.controllerPid, doc.gatewayPid]) assert.ok(!isAlive(pid), `pid ${pid} stopped`);
    assert.ok(!existsSync(path.join(work, 'run', 'up.json')));

    const nothing = await runCli(['down', '--work-dir', work, '--json']);
    assert.equal(nothing.code, 1);
    assert.equal(oneJson(nothing).error.code, 'EDG_ERR_NOTHING_TO_STOP');
  });

  it('down also stops children left behind by a killed supervisor', async () => {
    const { work, conf } = dirs();
    const run = await runCli(['up', '-d', ...PORTS, '--conf-dir', conf, '--work-dir', work, '--json'], { env: fakeBinsEnv() });
    assert.equal(run.code, 0, run.stderr);
    const doc = oneJson(run);
    process.kill(doc.pid, 'SIGKILL');
    await waitUntil(() => !isAlive(doc.pid), 5000, 'the supervisor to die');
    assert.ok(isAlive(doc.controllerPid) && isAlive(doc.gatewayPid));
    const down = await runCli(['down', '--work-dir', work]);
    assert.equal(down.code, 0, down.stderr);
    assert.ok(!isAlive(doc.controllerPid) && !isAlive(doc.gatewayPid));
  });

  it('reports a background start that fails, with its error line', async () => {
    const { work, conf } = dirs();
    const run = await runCli(['up', '-d', ...PORTS, '--conf-dir', conf, '--work-dir', work, '--timeout', '6'], { env: fakeBinsEnv('never-ready') }); // 6 s: the fake controller must get ready first on a loaded CI machine
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^Error: the background edgion-ctl up exited \(code 1\) before it was ready: gateway did not become ready within 6s$/m);
    assert.ok(!existsSync(path.join(work, 'run', 'up.json')));
  });
});

describe('up demo mode', () => {
  it('serves the embedded demo: echo backend, demo folder, and the "try" block', async () => {
    const { work } = dirs();
    const demoPort = await freePort();
    const up = startUp(['--work-dir', work, '--demo-port', String(demoPort)]);
    await up.waitFor(/edit .*\*\.yaml and watch it reload/);
    assert.match(up.stdout, new RegExp(`^  try: curl -i http://127\\.0\\.0\\.1:${demoPort}/hello$`, 'm'));
    const info = readJson(path.join(work, 'run', 'up.json'));
    assert.equal(info.demo, true);
    assert.equal(info.confDir, path.join(work, 'demo'));
    // The controller was given the demo folder, which points at the live echo backend.
    const controllerStart = JSON.parse(lines(path.join(work, 'fake-controller-starts.log'))[0]!);
    assert.equal(controllerStart.args[controllerStart.args.indexOf('--conf-dir') + 1], path.join(work, 'demo'));
    assert.match(readFileSync(path.join(work, 'demo', 'backend.yaml'), 'utf8'), new RegExp(`port: ${info.ports.demoEcho}\\n`));
    assert.match(readFileSync(path.join(work, 'demo', 'gateway.yaml'), 'utf8'), new RegExp(`port: ${demoPort}\\n`));
    const res = await fetch(`http://127.0.0.1:${info.ports.demoEcho}/hello?who=me`, { method: 'POST', body: 'hi' });
    assert.equal(res.headers.get('x-echo'), 'edgion-demo');
    const echo = (await res.json()) as any;
    assert.deepEqual([echo.method, echo.path, echo.query, echo.body], ['POST', '/hello', { who: 'me' }, 'hi']);
    await up.waitFor(/^\[demo-echo\] POST \/hello\?who=me -> 200$/m);

    up.signalGroup('SIGTERM');
    assert.equal((await up.exited).code, 0);
    assert.ok(!isAlive(info.echoPid));
  });
});
