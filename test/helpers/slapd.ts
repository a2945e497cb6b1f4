// A private OpenLDAP server for tests: slapd started from a temporary folder on free ports of
// 127.0.0.1 (plain LDAP with StartTLS, and LDAPS), seeded with slapadd. The TLS certificate is
// self-signed (openssl) for `127.0.0.1` only; `certFile` can be trusted with NODE_EXTRA_CA_CERTS.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.js';

export interface LdapUser {
  uid: string;
  password: string;
  cn: string;
}

export interface Slapd {
  port: number;
  ldapsPort: number;
  suffix: string;
  baseDn: string;
  users: LdapUser[];
  /** The server's self-signed certificate (PEM file). */
  certFile: string;
  stop(): Promise<void>;
}

function which(bin: string): string | undefined {
  for (const d of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/usr/local/sbin']) {
    const p = path.join(d, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why slapd cannot run here (undefined when it can). */
export function slapdMissing(): string | undefined {
  if (!which('slapd') || !which('slapadd')) return 'slapd/slapadd not installed (Debian: apt-get install slapd)';
  if (!which('openssl')) return 'openssl not installed';
  if (!['/etc/ldap/schema', '/etc/openldap/schema'].some((d) => fs.existsSync(path.join(d, 'core.schema')))) return 'LDAP schema files not found';
  return undefined;
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

export const DEFAULT_USERS: LdapUser[] = [
  { uid: 'alice', password: 'alice-pass', cn: 'Alice Test' },
  { uid: 'bob', password: 'bob-pass', cn: 'Bob Test' },
  { uid: 'carl,jr', password: 'carl-pass', cn: 'Carl Junior' },
];

export async function startSlapd(users: LdapUser[] = DEFAULT_USERS): Promise<Slapd> {
  const slapd = which('slapd')!;
  const slapadd = which('slapadd')!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgion-slapd-'));
  const db = path.join(dir, 'db');
  fs.mkdirSync(db);
  const schemaDir = ['/etc/ldap/schema', '/etc/openldap/schema'].find((d) => fs.existsSync(path.join(d, 'core.schema')))!;
  const modDir = ['/usr/lib/ldap', '/usr/lib/openldap', '/usr/lib64/openldap'].find((d) => fs.existsSync(d));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  const suffix = 'dc=edgion,dc=test';
  const conf = [
    `include ${schemaDir}/core.schema`,
    `include ${schemaDir}/cosine.schema`,
    `include ${schemaDir}/nis.schema`,
    `include ${schemaDir}/inetorgperson.schema`,
    `pidfile ${dir}/slapd.pid`,
    modDir ? `modulepath ${modDir}` : '',
    modDir && fs.existsSync(path.join(modDir, 'back_mdb.la')) ? 'moduleload back_mdb' : '',
    `TLSCertificateFile ${certFile}`,
    `TLSCertificateKeyFile ${keyFile}`,
    'database mdb',
    'maxsize 10485760',
    `suffix "${suffix}"`,
    `rootdn "cn=admin,${suffix}"`,
    'rootpw admin-secret',
    `directory ${db}`,
    'access to attrs=userPassword by anonymous auth by * none',
    'access to * by * read',
  ]
    .filter(Boolean)
    .join('\n');
  const confPath = path.join(dir, 'slapd.conf');
  fs.writeFileSync(confPath, `${conf}\n`);
  const escape = (v: string) => v.replace(/([,+"\\<>;=])/g, '\\$1');
  const ldif = [
    `dn: ${suffix}\nobjectClass: dcObject\nobjectClass: organization\ndc: edgion\no: edgion\n`,
    `dn: ou=people,${suffix}\nobjectClass: organizationalUnit\nou: people\n`,
    ...users.map((u) => `dn: uid=${escape(u.uid)},ou=people,${suffix}\nobjectClass: inetOrgPerson\nuid: ${u.uid}\ncn: ${u.cn}\nsn: ${u.cn.split(' ').pop()}\nuserPassword: ${u.password}\n`),
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'seed.ldif'), ldif);
  execFileSync(slapadd, ['-f', confPath, '-l', path.join(dir, 'seed.ldif')], { stdio: 'pipe' });
  const port = await freePort();
  const ldapsPort = await freePort();
  const child: ChildProcess = spawn(slapd, ['-f', confPath, '-h', `ldap://127.0.0.1:${port}/ ldaps://127.0.0.1:${ldapsPort}/`, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const deadline = Date.now() + 10_000;
  while (!(await portOpen(port)) || !(await portOpen(ldapsPort))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`slapd did not start: ${stderr.split('\n').slice(-5).join(' ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    ldapsPort,
    suffix,
    baseDn: `ou=people,${suffix}`,
    users,
    certFile,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
