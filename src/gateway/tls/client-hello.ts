// Reads a TLS ClientHello without terminating TLS: enough to route by SNI (passthrough, per-name
// certificate and client-auth policy) and to log what the client asked for. Bytes are accumulated
// until the whole handshake message is there (it may span several records); anything that is not
// a TLS handshake is refused early so garbage never waits for a timeout.

export interface ClientHello {
  /** Server name (SNI), lower-cased; undefined when the client sent none. */
  sni: string | undefined;
  /** ALPN protocols offered. */
  alpn: string[];
  /** Highest version offered (supported_versions, else the legacy field): 0x0304 = TLS 1.3. */
  maxVersion: number;
}

export type HelloResult = { state: 'more' } | { state: 'done'; hello: ClientHello } | { state: 'error'; reason: string };

/** Largest ClientHello accepted (records of handshake data). */
export const MAX_HELLO_BYTES = 64 * 1024;

/**
 * Parses the bytes received so far. `more` = need more data; `error` = not a TLS ClientHello (the
 * connection should be closed). Never throws.
 */
export function parseClientHello(buf: Buffer): HelloResult {
  if (buf.length === 0) return { state: 'more' };
  if (buf[0] !== 0x16) return { state: 'error', reason: 'not a TLS handshake' };
  // Reassemble the handshake bytes of consecutive handshake records (the last one may be partial).
  const parts: Buffer[] = [];
  let have = 0;
  let off = 0;
  while (buf.length - off >= 5) {
    if (buf[off] !== 0x16) return { state: 'error', reason: 'handshake interrupted by another record type' };
    if (buf[off + 1] !== 0x03) return { state: 'error', reason: 'unsupported record version' };
    const len = buf.readUInt16BE(off + 3);
    if (len === 0 || len > 16384) return { state: 'error', reason: 'bad record length' };
    const end = Math.min(off + 5 + len, buf.length);
    parts.push(buf.subarray(off + 5, end));
    have += end - off - 5;
    if (end < off + 5 + len) break;
    off = end;
  }
  if (have === 0) return { state: 'more' };
  const hs = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  if (hs[0] !== 0x01) return { state: 'error', reason: 'first handshake message is not a ClientHello' };
  if (have < 4) return { state: 'more' };
  const need = 4 + ((hs[1]! << 16) | (hs[2]! << 8) | hs[3]!);
  if (need > MAX_HELLO_BYTES) return { state: 'error', reason: 'ClientHello too large' };
  if (have < need) return { state: 'more' };
  try {
    return { state: 'done', hello: readHello(hs.subarray(4, need)) };
  } catch {
    return { state: 'error', reason: 'malformed ClientHello' };
  }
}

class Reader {
  pos = 0;
  constructor(private readonly b: Buffer) {}
  u8(): number {
    if (this.pos + 1 > this.b.length) throw new RangeError('short');
    return this.b[this.pos++]!;
  }
  u16(): number {
    if (this.pos + 2 > this.b.length) throw new RangeError('short');
    const v = this.b.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  bytes(n: number): Buffer {
    if (this.pos + n > this.b.length) throw new RangeError('short');
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  get left(): number {
    return this.b.length - this.pos;
  }
}

function readHello(body: Buffer): ClientHello {
  const r = new Reader(body);
  let maxVersion = r.u16();
  r.bytes(32); // random
  r.bytes(r.u8()); // session id
  r.bytes(r.u16()); // cipher suites
  r.bytes(r.u8()); // compression methods
  let sni: string | undefined;
  const alpn: string[] = [];
  if (r.left >= 2) {
    const ext = new Reader(r.bytes(r.u16()));
    while (ext.left >= 4) {
      const type = ext.u16();
      const data = new Reader(ext.bytes(ext.u16()));
      if (type === 0 && data.left >= 2) {
        const list = new Reader(data.bytes(data.u16()));
        while (list.left >= 3) {
          const nameType = list.u8();
          const name = list.bytes(list.u16());
          if (nameType === 0 && sni === undefined) sni = name.toString('latin1').toLowerCase();
        }
      } else if (type === 16 && data.left >= 2) {
        const list = new Reader(data.bytes(data.u16()));
        while (list.left >= 1) alpn.push(list.bytes(list.u8()).toString('latin1'));
      } else if (type === 43 && data.left >= 1) {
        const list = new Reader(data.bytes(data.u8()));
        while (list.left >= 2) {
          const v = list.u16();
          if ((v & 0x0f0f) !== 0x0a0a && v > maxVersion) maxVersion = v; // skip GREASE values
        }
      }
    }
  }
  if (sni !== undefined && (sni === '' || sni.length > 255 || !/^[a-z0-9._-]+$/.test(sni))) sni = undefined;
  return { sni, alpn, maxVersion };
}

/** A fatal TLS alert record (sent before closing when no certificate or route fits the SNI). */
export function tlsAlert(description: number): Buffer {
  return Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, description]);
}

export const ALERT_HANDSHAKE_FAILURE = 40;
export const ALERT_UNRECOGNIZED_NAME = 112;
export const ALERT_ACCESS_DENIED = 49;
