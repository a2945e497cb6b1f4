// TLS, TCP and UDP clients for tests: never throw for network errors (status 0 / error set).
import dgram from 'node:dgram';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

export interface TlsInfo {
  protocol: string | null;
  alpn: string | false | null;
  subjectCN?: string;
  issuerCN?: string;
  san?: string;
  serial?: string;
}

export interface TlsRes {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: any;
  httpVersion?: string;
  error?: string;
  tls?: TlsInfo;
}

export interface TlsOpts {
  port: number;
  /** SNI; undefined = none sent. */
  servername?: string;
  /** Host header (default: servername). */
  host?: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  ca?: string;
  cert?: string;
  key?: string;
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  ciphers?: string;
  alpn?: string[];
  http2?: boolean;
  agent?: https.Agent | false;
  timeout?: number;
  /** Skip server-certificate verification (the test checks the certificate itself). */
  insecure?: boolean;
}

function info(sock: tls.TLSSocket | undefined): TlsInfo | undefined {
  if (!sock || typeof sock.getPeerCertificate !== 'function') return undefined;
  const c = sock.getPeerCertificate();
  return {
    protocol: sock.getProtocol(),
    alpn: sock.alpnProtocol,
    ...(c?.subject?.CN ? { subjectCN: String(c.subject.CN) } : {}),
    ...(c?.issuer?.CN ? { issuerCN: String(c.issuer.CN) } : {}),
    ...(c?.subjectaltname ? { san: c.subjectaltname } : {}),
    ...(c?.serialNumber ? { serial: c.serialNumber } : {}),
  };
}

function tlsOptions(o: TlsOpts): tls.ConnectionOptions {
  return {
    // '' = send no SNI (https.request would otherwise derive it from the Host header).
    servername: o.servername ?? '',
    ...(o.ca ? { ca: o.ca } : {}),
    ...(o.cert ? { cert: o.cert, key: o.key } : {}),
    ...(o.minVersion ? { minVersion: o.minVersion } : {}),
    ...(o.maxVersion ? { maxVersion: o.maxVersion } : {}),
    ...(o.ciphers ? { ciphers: o.ciphers } : {}),
    ...(o.alpn ? { ALPNProtocols: o.alpn } : {}),
    rejectUnauthorized: !o.insecure,
    checkServerIdentity: o.insecure ? () => undefined : (_h, cert) => tls.checkServerIdentity(o.servername ?? o.host ?? 'localhost', cert),
  };
}

function parse(body: string): any {
  try {
    return body ? JSON.parse(body) : undefined;
  } catch {
    return undefined;
  }
}

export function httpsRequest(o: TlsOpts): Promise<TlsRes> {
  if (o.http2) return h2Request(o);
  return new Promise((resolve) => {
    const host = o.host ?? o.servername ?? 'localhost';
    const req = https.request(
      { host: '127.0.0.1', port: o.port, path: o.path ?? '/', method: o.method ?? 'GET', headers: { host, ...o.headers }, agent: o.agent ?? false, ...tlsOptions(o) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: parse(body), httpVersion: res.httpVersion, tls: info(res.socket as tls.TLSSocket) });
        });
        res.on('error', (e) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '', json: undefined, error: e.message }));
      },
    );
    req.setTimeout(o.timeout ?? 8000, () => req.destroy(new Error('timeout')));
    req.on('error', (e: Error & { code?: string }) => resolve({ status: 0, headers: {}, body: '', json: undefined, error: `${e.code ?? ''} ${e.message}`.trim() }));
    req.end();
  });
}

function h2Request(o: TlsOpts): Promise<TlsRes> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: TlsRes) => {
      if (done) return;
      done = true;
      client.close();
      resolve(r);
    };
    const client = http2.connect(`https://127.0.0.1:${o.port}`, { ...tlsOptions(o), ALPNProtocols: o.alpn ?? ['h2'] } as http2.SecureClientSessionOptions);
    client.on('error', (e: Error & { code?: string }) => finish({ status: 0, headers: {}, body: '', json: undefined, error: `${e.code ?? ''} ${e.message}`.trim() }));
    const req = client.request({ ':path': o.path ?? '/', ':method': o.method ?? 'GET', ':authority': o.host ?? o.servername ?? 'localhost', ...o.headers });
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
      headers = h as Record<string, string | string[] | undefined>;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      finish({ status, headers, body, json: parse(body), httpVersion: '2.0', tls: info(client.socket as tls.TLSSocket) });
    });
    req.on('error', (e) => finish({ status, headers, body: '', json: undefined, error: e.message }));
    req.setTimeout(o.timeout ?? 8000, () => req.close());
    req.end();
  });
}

export interface RawRes {
  data: Buffer;
  error?: string;
  closed: boolean;
  tls?: TlsInfo;
}

/** Connects (TLS when `tlsOpts` given), writes `data`, collects until close or `idleMs` of silence. */
export function rawExchange(port: number, data: Buffer | string | undefined, opts: { tls?: TlsOpts; idleMs?: number; timeout?: number; halfClose?: boolean } = {}): Promise<RawRes> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    let idle: NodeJS.Timeout | undefined;
    let sock: net.Socket;
    const end = (extra: Partial<RawRes>) => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      clearTimeout(hard);
      const t = sock instanceof tls.TLSSocket ? info(sock) : undefined;
      sock.destroy();
      resolve({ data: Buffer.concat(chunks), closed: false, ...(t ? { tls: t } : {}), ...extra });
    };
    const hard = setTimeout(() => end({ error: 'timeout' }), opts.timeout ?? 8000);
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => end({}), opts.idleMs ?? 500);
    };
    const onConnect = () => {
      if (data !== undefined) sock.write(data);
      if (opts.halfClose) sock.end();
      arm();
    };
    sock = opts.tls ? tls.connect({ host: '127.0.0.1', port, ...tlsOptions(opts.tls) }, onConnect) : net.connect({ host: '127.0.0.1', port }, onConnect);
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      arm();
    });
    sock.on('close', () => end({ closed: true }));
    sock.on('error', (e: Error & { code?: string }) => end({ error: `${e.code ?? ''} ${e.message}`.trim() }));
  });
}

/** Sends datagrams from one local socket; collects replies until `waitMs` passes after the last send. */
export async function udpExchange(port: number, messages: (string | Buffer)[], opts: { waitMs?: number; socket?: dgram.Socket } = {}): Promise<{ replies: string[]; localPort: number }> {
  const sock = opts.socket ?? dgram.createSocket('udp4');
  const replies: string[] = [];
  const onMsg = (m: Buffer) => replies.push(m.toString('utf8'));
  sock.on('message', onMsg);
  if (!opts.socket) await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  for (const m of messages) sock.send(m, port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, opts.waitMs ?? 300));
  sock.off('message', onMsg);
  const localPort = sock.address().port;
  if (!opts.socket) sock.close();
  return { replies, localPort };
}
