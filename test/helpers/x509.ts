// X.509 certificates for tests, built with node:crypto only (DER by hand): CAs, intermediates and
// client certificates with SANs (DNS, IP, email, URI), chosen validity and extended key usage.
// EC P-256 keys, ecdsa-with-SHA256 signatures.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n >>= 8;
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, content: Buffer) => Buffer.concat([Buffer.from([tag]), len(content.length), content]);
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
function int(b: Buffer): Buffer {
  return tlv(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}
function oid(s: string): Buffer {
  const p = s.split('.').map(Number);
  const out = [40 * p[0]! + p[1]!];
  for (const v of p.slice(2)) {
    const stack = [v & 0x7f];
    let x = Math.floor(v / 128);
    while (x > 0) {
      stack.unshift((x & 0x7f) | 0x80);
      x = Math.floor(x / 128);
    }
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bool = (b: boolean) => tlv(0x01, Buffer.from([b ? 0xff : 0]));
const octet = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
const ctx = (n: number, content: Buffer, constructed = true) => tlv((constructed ? 0xa0 : 0x80) | n, content);
function time(d: Date): Buffer {
  const p = (x: number) => String(x).padStart(2, '0');
  const y = d.getUTCFullYear();
  const body = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return y < 2050 ? tlv(0x17, Buffer.from(`${p(y % 100)}${body}`)) : tlv(0x18, Buffer.from(`${y}${body}`));
}
function name(cn: string, org?: string): Buffer {
  const rdns = [];
  if (org) rdns.push(set(seq(oid('2.5.4.10'), utf8(org))));
  rdns.push(set(seq(oid('2.5.4.3'), utf8(cn))));
  return seq(...rdns);
}
const ext = (id: string, critical: boolean, value: Buffer) => (critical ? seq(oid(id), bool(true), octet(value)) : seq(oid(id), octet(value)));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

export interface Cert {
  der: Buffer;
  pem: string;
  key: KeyObject;
  ski: Buffer;
  cn: string;
  org?: string;
  /** SHA-256 of the DER, lower-case hex pairs joined with `:`. */
  fingerprint: string;
}

export interface CertOptions {
  cn: string;
  org?: string;
  isCa?: boolean;
  issuer?: Cert;
  notBefore?: Date;
  notAfter?: Date;
  dns?: string[];
  ips?: string[];
  emails?: string[];
  uris?: string[];
  /** Extended key usage OIDs (default: clientAuth for leaves, none for CAs); [] = no EKU extension. */
  eku?: string[];
}

export const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

function ipBytes(ip: string): Buffer {
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
  }
  return Buffer.from(ip.split('.').map(Number));
}

export function makeCert(o: CertOptions): Cert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const ski = createHash('sha1').update(spki).digest();
  const issuer = o.issuer;
  const exts: Buffer[] = [];
  if (o.isCa) {
    exts.push(ext('2.5.29.19', true, seq(bool(true))));
    exts.push(ext('2.5.29.15', true, bits(Buffer.from([0x06]))));
  } else {
    exts.push(ext('2.5.29.19', true, seq()));
    exts.push(ext('2.5.29.15', true, bits(Buffer.from([0x80]))));
  }
  const eku = o.eku ?? (o.isCa ? [] : [CLIENT_AUTH]);
  if (eku.length) exts.push(ext('2.5.29.37', false, seq(...eku.map(oid))));
  const sans = [
    ...(o.dns ?? []).map((d) => tlv(0x82, Buffer.from(d))),
    ...(o.emails ?? []).map((d) => tlv(0x81, Buffer.from(d))),
    ...(o.uris ?? []).map((d) => tlv(0x86, Buffer.from(d))),
    ...(o.ips ?? []).map((d) => tlv(0x87, ipBytes(d))),
  ];
  if (sans.length) exts.push(ext('2.5.29.17', false, seq(...sans)));
  exts.push(ext('2.5.29.14', false, octet(ski)));
  exts.push(ext('2.5.29.35', false, seq(tlv(0x80, issuer ? issuer.ski : ski))));
  const serial = randomBytes(12);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const tbs = seq(
    ctx(0, int(Buffer.from([2]))),
    int(serial),
    ECDSA_SHA256,
    issuer ? name(issuer.cn, issuer.org) : name(o.cn, o.org),
    seq(time(o.notBefore ?? new Date(Date.now() - 3600e3)), time(o.notAfter ?? new Date(Date.now() + 30 * 86400e3))),
    name(o.cn, o.org),
    spki,
    ctx(3, seq(...exts)),
  );
  const sig = sign('sha256', tbs, issuer ? issuer.key : privateKey);
  const der = seq(tbs, ECDSA_SHA256, bits(sig));
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  const fingerprint = createHash('sha256').update(der).digest('hex').match(/../g)!.join(':');
  return { der, pem, key: privateKey, ski, cn: o.cn, ...(o.org ? { org: o.org } : {}), fingerprint };
}
