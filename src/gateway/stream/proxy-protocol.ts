// PROXY protocol headers towards backends (tls.md §5, DECISIONS.md §22): v1 (text) and v2 (binary,
// with an authority TLV carrying the SNI when there is one). Source = the client, destination = the
// upstream address, as the original does; mixed address families are written as IPv6.

import net from 'node:net';

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const PP2_TYPE_AUTHORITY = 0x02;

export interface ProxyAddresses {
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
}

function strip(a: string): string {
  return a.startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a;
}

function toV6(a: string): string {
  return net.isIPv4(a) ? `::ffff:${a}` : a;
}

/** IPv6 text → 16 bytes. */
function v6Bytes(addr: string): Buffer {
  const out = Buffer.alloc(16);
  let a = addr;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  let tail: number[] = [];
  if (v4) {
    tail = v4[1]!.split('.').map(Number);
    a = a.slice(0, -v4[1]!.length) + '0:0';
  }
  const [head, rest] = a.includes('::') ? (a.split('::') as [string, string]) : [a, undefined];
  const h = head ? head.split(':').filter((x) => x !== '') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array.from({ length: 8 - h.length - r.length }, () => '0'), ...r];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  if (tail.length === 4) tail.forEach((b, i) => (out[12 + i] = b));
  return out;
}

export function proxyV1(a: ProxyAddresses): Buffer {
  const src = strip(a.srcAddr);
  const dst = strip(a.dstAddr);
  if (!net.isIP(src) || !net.isIP(dst)) return Buffer.from('PROXY UNKNOWN\r\n');
  const both4 = net.isIPv4(src) && net.isIPv4(dst);
  const s = both4 ? src : toV6(src);
  const d = both4 ? dst : toV6(dst);
  return Buffer.from(`PROXY ${both4 ? 'TCP4' : 'TCP6'} ${s} ${d} ${a.srcPort} ${a.dstPort}\r\n`, 'latin1');
}

export function proxyV2(a: ProxyAddresses, authority?: string): Buffer {
  const src = strip(a.srcAddr);
  const dst = strip(a.dstAddr);
  const tlv = authority ? Buffer.concat([Buffer.from([PP2_TYPE_AUTHORITY, 0, 0]), Buffer.from(authority, 'utf8')]) : Buffer.alloc(0);
  if (tlv.length) tlv.writeUInt16BE(tlv.length - 3, 1);
  if (!net.isIP(src) || !net.isIP(dst)) {
    // LOCAL command, unspecified family: the backend uses the connection's own addresses.
    const head = Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0, 0])]);
    head.writeUInt16BE(tlv.length, 14);
    return Buffer.concat([head, tlv]);
  }
  const both4 = net.isIPv4(src) && net.isIPv4(dst);
  let addr: Buffer;
  if (both4) {
    addr = Buffer.alloc(12);
    src.split('.').forEach((b, i) => (addr[i] = Number(b)));
    dst.split('.').forEach((b, i) => (addr[4 + i] = Number(b)));
    addr.writeUInt16BE(a.srcPort, 8);
    addr.writeUInt16BE(a.dstPort, 10);
  } else {
    addr = Buffer.alloc(36);
    v6Bytes(toV6(src)).copy(addr, 0);
    v6Bytes(toV6(dst)).copy(addr, 16);
    addr.writeUInt16BE(a.srcPort, 32);
    addr.writeUInt16BE(a.dstPort, 34);
  }
  const head = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, both4 ? 0x11 : 0x21, 0, 0])]);
  head.writeUInt16BE(addr.length + tlv.length, 14);
  return Buffer.concat([head, addr, tlv]);
}

export interface ParsedProxyHeader {
  version: 1 | 2;
  srcAddr?: string;
  srcPort?: number;
  dstAddr?: string;
  dstPort?: number;
  authority?: string;
  /** Header length in bytes. */
  length: number;
}

/** Parses a PROXY header at the start of `buf` (used by tests and tools); undefined if incomplete. */
export function parseProxyHeader(buf: Buffer): ParsedProxyHeader | undefined {
  if (buf.subarray(0, 6).toString('latin1') === 'PROXY ') {
    const end = buf.indexOf('\r\n');
    if (end < 0) return undefined;
    const parts = buf.subarray(0, end).toString('latin1').split(' ');
    if (parts[1] === 'UNKNOWN') return { version: 1, length: end + 2 };
    return { version: 1, srcAddr: parts[2]!, dstAddr: parts[3]!, srcPort: Number(parts[4]), dstPort: Number(parts[5]), length: end + 2 };
  }
  if (buf.length < 16 || !buf.subarray(0, 12).equals(V2_SIGNATURE)) return undefined;
  const len = buf.readUInt16BE(14);
  if (buf.length < 16 + len) return undefined;
  const fam = buf[13]!;
  const body = buf.subarray(16, 16 + len);
  const out: ParsedProxyHeader = { version: 2, length: 16 + len };
  let tlvStart = 0;
  if (fam === 0x11) {
    out.srcAddr = [...body.subarray(0, 4)].join('.');
    out.dstAddr = [...body.subarray(4, 8)].join('.');
    out.srcPort = body.readUInt16BE(8);
    out.dstPort = body.readUInt16BE(10);
    tlvStart = 12;
  } else if (fam === 0x21) {
    const hex = (b: Buffer) => Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2).toString(16)).join(':');
    out.srcAddr = hex(body.subarray(0, 16));
    out.dstAddr = hex(body.subarray(16, 32));
    out.srcPort = body.readUInt16BE(32);
    out.dstPort = body.readUInt16BE(34);
    tlvStart = 36;
  }
  for (let i = tlvStart; i + 3 <= body.length; ) {
    const t = body[i]!;
    const l = body.readUInt16BE(i + 1);
    if (t === PP2_TYPE_AUTHORITY) out.authority = body.subarray(i + 3, i + 3 + l).toString('utf8');
    i += 3 + l;
  }
  return out;
}
