// Debian's pebble (a test ACME CA) and pebble-challtestsrv (its fake DNS) as private instances on
// free ports, for the ACME end-to-end tests. Absent binaries: `available()` says why, tests skip.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import dgram from 'node:dgram';
import { TestCa } from './certs.js';
import { freePort } from './free-port.js';

function which(bin: string): string | undefined {
  for (const d of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin']) {
    const p = path.join(d, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export function pebbleMissing(): string | undefined {
  if (!which('pebble')) return 'pebble is not installed (Debian: apt-get install pebble)';
  if (!which('pebble-challtestsrv')) return 'pebble-challtestsrv is not installed (Debian: apt-get install pebble)';
  return undefined;
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

async function waitPort(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export interface Pebble {
  directory: string;
  managementUrl: string;
  challtestsrvUrl: string;
  dnsServer: string;
  /** PEM of pebble's issuing root (from its management API). */
  root(): Promise<string>;
  stop(): Promise<void>;
  log(): string;
}

/** Starts challtestsrv (DNS answering 127.0.0.1) and pebble validating HTTP-01 on `httpPort`. */
export async function startPebble(httpPort: number): Promise<Pebble> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgion-pebble-'));
  const [acmePort, mgmtPort, cMgmt, dnsPort] = [await freePort(), await freePort(), await freePort(), await freeUdpPort()];
  const children: ChildProcess[] = [];
  const logFile = path.join(dir, 'pebble.log');
  const out = fs.openSync(logFile, 'a');
  const cts = spawn(which('pebble-challtestsrv')!, ['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${cMgmt}`, '-defaultIPv6', ''], { stdio: ['ignore', out, out] });
  children.push(cts);
  const ca = new TestCa('pebble-https-ca');
  const pair = ca.issue('localhost', { sans: ['localhost', '127.0.0.1'] });
  fs.writeFileSync(path.join(dir, 'cert.pem'), pair.cert);
  fs.writeFileSync(path.join(dir, 'key.pem'), pair.key);
  const cfg = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: path.join(dir, 'cert.pem'),
      privateKey: path.join(dir, 'key.pem'),
      httpPort,
      tlsPort: await freePort(),
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
    },
  };
  fs.writeFileSync(path.join(dir, 'pebble.json'), JSON.stringify(cfg));
  const pb = spawn(which('pebble')!, ['-config', path.join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], {
    stdio: ['ignore', out, out],
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
  });
  children.push(pb);
  const up = (await waitPort(acmePort, 10_000)) && (await waitPort(cMgmt, 5000));
  const stop = async () => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    fs.closeSync(out);
  };
  if (!up) {
    const text = fs.readFileSync(logFile, 'utf8');
    await stop();
    throw new Error(`pebble did not start:\n${text}`);
  }
  return {
    directory: `https://127.0.0.1:${acmePort}/dir`,
    managementUrl: `https://127.0.0.1:${mgmtPort}`,
    challtestsrvUrl: `http://127.0.0.1:${cMgmt}`,
    dnsServer: `127.0.0.1:${dnsPort}`,
    async root() {
      const { default: https } = await import('node:https');
      return new Promise((resolve, reject) => {
        https.get(`https://127.0.0.1:${mgmtPort}/roots/0`, { ca: ca.cert }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c.toString()));
          res.on('end', () => resolve(b));
        }).on('error', reject);
      });
    },
    stop,
    log: () => fs.readFileSync(logFile, 'utf8'),
  };
}
