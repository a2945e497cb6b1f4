import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProxyHeader, proxyV1, proxyV2 } from '../../../src/gateway/stream/proxy-protocol.js';

test('v1: TCP4, TCP6, mixed families as TCP6, unknown', () => {
  assert.equal(proxyV1({ srcAddr: '10.0.0.1', srcPort: 1234, dstAddr: '10.0.0.2', dstPort: 80 }).toString(), 'PROXY TCP4 10.0.0.1 10.0.0.2 1234 80\r\n');
  assert.equal(proxyV1({ srcAddr: '::ffff:10.0.0.1', srcPort: 1, dstAddr: '10.0.0.2', dstPort: 2 }).toString(), 'PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n');
  assert.equal(proxyV1({ srcAddr: '2001:db8::1', srcPort: 1, dstAddr: '2001:db8::2', dstPort: 2 }).toString(), 'PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n');
  assert.equal(proxyV1({ srcAddr: '10.0.0.1', srcPort: 1, dstAddr: '2001:db8::2', dstPort: 2 }).toString(), 'PROXY TCP6 ::ffff:10.0.0.1 2001:db8::2 1 2\r\n');
  assert.equal(proxyV1({ srcAddr: '', srcPort: 0, dstAddr: '', dstPort: 0 }).toString(), 'PROXY UNKNOWN\r\n');
});

test('v2: signature, version/command, IPv4 addresses and the authority TLV', () => {
  const b = proxyV2({ srcAddr: '192.0.2.1', srcPort: 51000, dstAddr: '198.51.100.7', dstPort: 5432 }, 'db.example.com');
  assert.deepEqual([...b.subarray(0, 12)], [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  assert.equal(b[12], 0x21);
  assert.equal(b[13], 0x11);
  assert.equal(b.readUInt16BE(14), 12 + 3 + 'db.example.com'.length);
  const p = parseProxyHeader(b)!;
  assert.deepEqual(p, { version: 2, length: b.length, srcAddr: '192.0.2.1', dstAddr: '198.51.100.7', srcPort: 51000, dstPort: 5432, authority: 'db.example.com' });
});

test('v2: IPv6 and mixed families', () => {
  const p = parseProxyHeader(proxyV2({ srcAddr: '2001:db8::1', srcPort: 1, dstAddr: '127.0.0.1', dstPort: 2 }))!;
  assert.equal(p.srcAddr, '2001:db8:0:0:0:0:0:1');
  assert.equal(p.dstAddr, '0:0:0:0:0:ffff:7f00:1');
  assert.equal(p.srcPort, 1);
  assert.equal(p.authority, undefined);
});

test('parse needs the whole header', () => {
  const b = proxyV2({ srcAddr: '1.2.3.4', srcPort: 1, dstAddr: '5.6.7.8', dstPort: 2 });
  assert.equal(parseProxyHeader(b.subarray(0, b.length - 1)), undefined);
  assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4')), undefined);
});
