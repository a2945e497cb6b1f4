// Starts the real edgion-controller and edgion-gateway processes (the built bins) on free ports
// with a temporary configuration folder and work dir, for end-to-end tests.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request, waitFor, type Res } from './http.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = (name: string) => path.join(ROOT, 'bin', `${name}.js`);

export interface StartOptions {
  conf?: Record<string, string>;
  workers?: number;
  gateway?: boolean;
  gatewayArgs?: string[];
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

function readJson(file: string): any {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export class Edgion {
  controller: ChildProcess | undefined;
  gateway: ChildProcess | undefined;
  adminPort = 0;
  grpcPort = 0;
  gatewayAdminPort = 0;
  output: string[] = [];

  private constructor(
    readonly confDir: string,
    readonly workDir: string,
    private readonly opts: StartOptions,
  ) {}

  static async start(opts: StartOptions = {}): Promise<Edgion> {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'edgion-e2e-'));
    const e = new Edgion(path.join(base, 'conf'), path.join(base, 'work'), opts);
    fs.mkdirSync(e.confDir, { recursive: true });
    fs.mkdirSync(e.workDir, { recursive: true });
    for (const [rel, text] of Object.entries(opts.conf ?? {})) e.writeConf(rel, text);
    await e.startController();
    if (opts.gateway !== false) await e.startGateway();
    return e;
  }

  private spawn(name: string, args: string[]): ChildProcess {
    const child = spawn(process.execPath, ['--no-node-snapshot', BIN(name), ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...this.opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (b: Buffer) => {
      for (const line of b.toString('utf8').split('\n')) if (line) this.output.push(`[${name}] ${line}`);
      if (this.output.length > 2000) this.output.splice(0, 1000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    return child;
  }

  async startController(): Promise<void> {
    fs.rmSync(path.join(this.workDir, 'run', 'controller.json'), { force: true });
    this.controller = this.spawn('edgion-controller', ['--conf-dir', this.confDir, '--work-dir', this.workDir, '--admin-port', '0', '--grpc-port', String(this.grpcPort || 0)]);
    const run = await waitFor(async () => readJson(path.join(this.workDir, 'run', 'controller.json')), 15_000);
    if (!run) throw new Error(`controller did not start:\n${this.tail()}`);
    this.adminPort = run.ports.admin;
    this.grpcPort = run.ports.grpc;
  }

  async startGateway(): Promise<void> {
    fs.rmSync(path.join(this.workDir, 'run', 'gateway.json'), { force: true });
    this.gateway = this.spawn('edgion-gateway', [
      '--controller',
      `127.0.0.1:${this.grpcPort}`,
      '--work-dir',
      this.workDir,
      '--admin-port',
      '0',
      '--workers',
      String(this.opts.workers ?? 1),
      ...(this.opts.gatewayArgs ?? []),
    ]);
    const run = await waitFor(async () => readJson(path.join(this.workDir, 'run', 'gateway.json')), 15_000);
    if (!run) throw new Error(`gateway did not start:\n${this.tail()}`);
    this.gatewayAdminPort = run.ports.admin;
    const ready = await waitFor(async () => (await request({ port: this.gatewayAdminPort, path: '/ready' })).status === 200, this.opts.readyTimeoutMs ?? 15_000);
    if (!ready) throw new Error(`gateway not ready:\n${this.tail()}`);
  }

  tail(n = 40): string {
    return this.output.slice(-n).join('\n');
  }

  writeConf(rel: string, text: string): void {
    const file = path.join(this.confDir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  }

  removeConf(rel: string): void {
    fs.rmSync(path.join(this.confDir, rel), { force: true });
  }

  api(p: string, init: { method?: string; body?: string } = {}): Promise<Res> {
    return request({ port: this.adminPort, path: p, ...(init.method ? { method: init.method } : {}), ...(init.body !== undefined ? { body: init.body } : {}) });
  }

  gatewayApi(p: string): Promise<Res> {
    return request({ port: this.gatewayAdminPort, path: p });
  }

  /** Waits until the gateway applied a configuration with version ≥ v (or the controller's current). */
  async converged(ms = 5000): Promise<boolean> {
    const ok = await waitFor(async () => {
      const c = await this.api('/api/v1/status');
      const g = await this.gatewayApi('/api/v1/status');
      return c.json && g.json && g.json.config.version >= c.json.snapshot.version;
    }, ms);
    return !!ok;
  }

  accessLog(): any[] {
    const file = path.join(this.workDir, 'logs', 'access.log');
    if (!fs.existsSync(file)) return [];
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return { __unparsed: l };
        }
      });
  }

  processLog(name: 'controller' | 'gateway'): string {
    const file = path.join(this.workDir, 'logs', `${name}.log`);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  static exited(child: ChildProcess | undefined, ms = 15_000): Promise<number | null> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child?.exitCode ?? null);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(-1);
      }, ms);
      child.once('exit', (code) => {
        clearTimeout(t);
        resolve(code);
      });
    });
  }

  async stopGateway(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.gateway?.kill(signal);
    return Edgion.exited(this.gateway);
  }

  async stopController(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.controller?.kill(signal);
    return Edgion.exited(this.controller);
  }

  async stop(): Promise<void> {
    await Promise.all([this.stopGateway(), this.stopController()]);
    if (!process.env.EDGION_KEEP_TEST_DIRS) fs.rmSync(path.dirname(this.confDir), { recursive: true, force: true });
  }
}

/** YAML for the common pieces of a test configuration. */
export const yaml = {
  gatewayClass: (name = 'edgion') => `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: ${name}
spec:
  controllerName: edgion.io/gateway-controller
`,
  gateway: (name: string, listeners: { name: string; port: number; protocol?: string; hostname?: string }[], ns = 'default') => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  gatewayClassName: edgion
  addresses: [{ type: IPAddress, value: 127.0.0.1 }]
  listeners:
${listeners.map((l) => `    - name: ${l.name}\n      port: ${l.port}\n      protocol: ${l.protocol ?? 'HTTP'}${l.hostname ? `\n      hostname: "${l.hostname}"` : ''}\n      allowedRoutes: { namespaces: { from: All } }`).join('\n')}
`,
  service: (name: string, port: number, ns = 'default', svcPort?: number) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  ports: [{ name: http, port: ${svcPort ?? port} }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-eps
  namespace: ${ns}
  labels: { kubernetes.io/service-name: ${name} }
addressType: IPv4
ports: [{ name: http, port: ${port} }]
endpoints:
  - addresses: ["127.0.0.1"]
    conditions: { ready: true }
`,
};

/** Several endpoints of one Service on different ports need one slice per port. */
export function multiPortService(name: string, ports: number[], ns = 'default'): string {
  const svc = `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  ports: [{ name: http, port: 8080 }]
`;
  const slices = ports.map(
    (p, i) => `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-eps-${i}
  namespace: ${ns}
  labels: { kubernetes.io/service-name: ${name} }
addressType: IPv4
ports: [{ name: http, port: ${p} }]
endpoints:
  - addresses: ["127.0.0.1"]
    conditions: { ready: true }
`,
  );
  return [svc, ...slices].join('---\n');
}
