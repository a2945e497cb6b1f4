// Test certificates made with the openssl CLI in a temporary folder: a CA (and intermediates) that
// issue server and client leaves with any SANs. PEM text is returned; nothing is committed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Pem {
  cert: string;
  key: string;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

export function hasOpenssl(): boolean {
  try {
    openssl(['version']);
    return true;
  } catch {
    return false;
  }
}

let dirRoot: string | undefined;
let seq = 0;
function tmp(name: string): string {
  if (dirRoot === undefined) {
    const dir = (dirRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'edgion-certs-')));
    // openssl's scratch files are only needed while the test process runs.
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return path.join(dirRoot, `${++seq}-${name.replace(/[^a-z0-9.-]/gi, '_')}`);
}

export interface IssueOptions {
  /** SANs: `DNS:x`, `IP:1.2.3.4`, `email:a@b`, `URI:spiffe://...`; bare names are DNS. */
  sans?: string[];
  days?: number;
  /** Negative days: issued in the past (already expired). */
  expired?: boolean;
  kind?: 'server' | 'client' | 'ca';
  ec?: boolean;
}

export class TestCa {
  readonly cert: string;
  readonly key: string;
  private readonly certFile: string;
  private readonly keyFile: string;

  constructor(
    readonly name = 'edgion-test-ca',
    readonly parent?: TestCa,
  ) {
    const base = tmp(name);
    this.keyFile = `${base}.key`;
    this.certFile = `${base}.crt`;
    openssl(['genrsa', '-out', this.keyFile, '2048']);
    if (!parent) {
      openssl(['req', '-x509', '-new', '-key', this.keyFile, '-sha256', '-days', '30', '-subj', `/CN=${name}/O=edgion-tests`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', this.certFile]);
    } else {
      const csr = `${base}.csr`;
      openssl(['req', '-new', '-key', this.keyFile, '-subj', `/CN=${name}/O=edgion-tests`, '-out', csr]);
      fs.writeFileSync(`${base}.ext`, 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
      openssl(['x509', '-req', '-in', csr, '-CA', parent.certFile, '-CAkey', parent.keyFile, '-set_serial', String(Date.now() % 1e9 + ++seq), '-days', '30', '-sha256', '-extfile', `${base}.ext`, '-out', this.certFile]);
    }
    this.cert = fs.readFileSync(this.certFile, 'utf8');
    this.key = fs.readFileSync(this.keyFile, 'utf8');
  }

  /** An intermediate CA signed by this one. */
  intermediate(name: string): TestCa {
    return new TestCa(name, this);
  }

  issue(cn: string, o: IssueOptions = {}): Pem {
    const base = tmp(cn);
    const keyFile = `${base}.key`;
    if (o.ec) openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
    else openssl(['genrsa', '-out', keyFile, '2048']);
    openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${cn}/O=edgion-tests`, '-out', `${base}.csr`]);
    const kind = o.kind ?? 'server';
    const sans = (o.sans ?? (kind === 'server' ? [cn] : [])).map((s) => (/^(DNS|IP|email|URI):/.test(s) ? s : /^\d+\.\d+\.\d+\.\d+$/.test(s) ? `IP:${s}` : `DNS:${s}`));
    const lines = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', `extendedKeyUsage=${kind === 'client' ? 'clientAuth' : 'serverAuth'}`];
    if (sans.length) lines.push(`subjectAltName=${sans.join(',')}`);
    fs.writeFileSync(`${base}.ext`, lines.join('\n') + '\n');
    const args = ['x509', '-req', '-in', `${base}.csr`, '-CA', this.certFile, '-CAkey', this.keyFile, '-set_serial', String((Date.now() % 1e9) + ++seq), '-sha256', '-extfile', `${base}.ext`, '-out', `${base}.crt`];
    // -days -1: notAfter lies before now (an expired certificate).
    openssl([...args, '-days', o.expired ? '-1' : String(o.days ?? 30)]);
    let cert = fs.readFileSync(`${base}.crt`, 'utf8');
    if (this.parent) cert += this.cert; // leaf + intermediate: the chain a server presents
    return { cert, key: fs.readFileSync(keyFile, 'utf8') };
  }
}

/** YAML of a kubernetes.io/tls Secret (PEMs base64 in `data`). */
export function tlsSecretYaml(name: string, pem: Pem, ns = 'default', extra: Record<string, string> = {}): string {
  const data: Record<string, string> = { 'tls.crt': pem.cert, 'tls.key': pem.key, ...extra };
  return `apiVersion: v1
kind: Secret
metadata: { name: ${name}, namespace: ${ns} }
type: kubernetes.io/tls
data:
${Object.entries(data)
  .map(([k, v]) => `  ${k}: ${Buffer.from(v).toString('base64')}`)
  .join('\n')}
`;
}

/** YAML of an Opaque Secret with `ca.crt`. */
export function caSecretYaml(name: string, caPem: string, ns = 'default'): string {
  return `apiVersion: v1
kind: Secret
metadata: { name: ${name}, namespace: ${ns} }
type: Opaque
data:
  ca.crt: ${Buffer.from(caPem).toString('base64')}
`;
}
