// Layer-4 test backends on 127.0.0.1: TCP echo (with a name prefix), UDP echo, TLS echo (reports
// the SNI it was reached with), and a TCP server that reads a PROXY protocol header first.
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { parseProxyHeader, type ParsedProxyHeader } from '../../src/gateway/stream/proxy-protocol.js';

export interface Backend {
  port: number;
  close(): Promise<void>;
}

function closeServer(s: net.Server, sockets: Set<net.Socket>): Promise<void> {
  for (const x of sockets) x.destroy();
  return new Promise((r) => s.close(() => r()));
}

function track(s: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  s.on('connection', (c: net.Socket) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  return sockets;
}

async function listen(s: net.Server): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as net.AddressInfo).port;
}

/** Writes `<name>:` then echoes every byte; ends when the client ends. */
export async function startTcpEcho(name: string): Promise<Backend & { connections: number }> {
  const out = { port: 0, connections: 0, close: async () => undefined as void };
  const s = net.createServer({ allowHalfOpen: true }, (c) => {
    out.connections++;
    c.on('error', () => undefined);
    c.write(`${name}:`);
    c.pipe(c);
  });
  const sockets = track(s);
  out.port = await listen(s);
  out.close = () => closeServer(s, sockets);
  return out;
}

export async function startUdpEcho(name: string): Promise<Backend & { sources: Set<string> }> {
  const sock = dgram.createSocket('udp4');
  const sources = new Set<string>();
  sock.on('message', (m, r) => {
    sources.add(`${r.address}:${r.port}`);
    sock.send(Buffer.concat([Buffer.from(`${name}:`), m]), r.port, r.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return { port: sock.address().port, sources, close: () => new Promise((r) => sock.close(() => r())) };
}

/** TLS server: answers `<name> sni=<servername>\n`, then echoes. */
export async function startTlsEcho(name: string, pem: { cert: string; key: string }): Promise<Backend> {
  const s = tls.createServer({ cert: pem.cert, key: pem.key }, (c) => {
    c.on('error', () => undefined);
    c.write(`${name} sni=${c.servername || '-'}\n`);
    c.pipe(c);
  });
  const sockets = track(s);
  const port = await listen(s);
  return { port, close: () => closeServer(s, sockets) };
}

/** Reads a PROXY header (recorded in `headers`), answers `pp:<json>\n`, then echoes. */
export async function startProxyProtocolServer(): Promise<Backend & { headers: ParsedProxyHeader[] }> {
  const headers: ParsedProxyHeader[] = [];
  const s = net.createServer((c) => {
    c.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const h = parseProxyHeader(buf);
      if (!h) {
        if (buf.length > 600) c.destroy();
        return;
      }
      c.off('data', onData);
      headers.push(h);
      c.write(`pp:${JSON.stringify(h)}\n`);
      const rest = buf.subarray(h.length);
      if (rest.length) c.write(rest);
      c.pipe(c);
    };
    c.on('data', onData);
  });
  const sockets = track(s);
  const port = await listen(s);
  return { port, headers, close: () => closeServer(s, sockets) };
}
