// Password hashes as htpasswd files hold them (BasicAuth, plugins.md §4.1): bcrypt (`$2a$`,
// `$2b$`, `$2y$`), `{SHA}` base64 SHA-1, Apache `$apr1$` MD5, `$1$` MD5-crypt; anything else is a
// plaintext password. A verifier is compiled once per stored password.

import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { safeEqual } from './common.js';

export type PasswordVerifier = (password: string) => boolean | Promise<boolean>;

export type HashKind = 'bcrypt' | 'sha1' | 'apr1' | 'md5-crypt' | 'plain';

export function hashKind(stored: string): HashKind {
  if (/^\$2[aby]\$\d\d\$/.test(stored)) return 'bcrypt';
  if (stored.startsWith('{SHA}')) return 'sha1';
  if (stored.startsWith('$apr1$')) return 'apr1';
  if (stored.startsWith('$1$')) return 'md5-crypt';
  return 'plain';
}

export function passwordVerifier(stored: string): PasswordVerifier {
  switch (hashKind(stored)) {
    case 'bcrypt':
      return (pw) => bcrypt.compare(pw, stored).catch(() => false);
    case 'sha1': {
      const expected = Buffer.from(stored.slice(5), 'base64');
      return (pw) => safeEqual(createHash('sha1').update(pw, 'utf8').digest(), expected);
    }
    case 'apr1':
      return (pw) => safeEqual(md5Crypt(pw, saltOf(stored, '$apr1$'), '$apr1$'), stored);
    case 'md5-crypt':
      return (pw) => safeEqual(md5Crypt(pw, saltOf(stored, '$1$'), '$1$'), stored);
    default:
      return (pw) => safeEqual(pw, stored);
  }
}

function saltOf(stored: string, magic: string): string {
  const rest = stored.slice(magic.length);
  const end = rest.indexOf('$');
  return (end === -1 ? rest : rest.slice(0, end)).slice(0, 8);
}

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function to64(v: number, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ITOA64[v & 0x3f];
    v >>>= 6;
  }
  return out;
}

/** Poul-Henning Kamp's MD5-crypt (`$1$`), and Apache's variant with the `$apr1$` magic. */
export function md5Crypt(password: string, salt: string, magic: '$1$' | '$apr1$'): string {
  const pw = Buffer.from(password, 'utf8');
  const sl = Buffer.from(salt.slice(0, 8), 'utf8');
  const md5 = () => createHash('md5');
  const ctx = md5().update(pw).update(magic).update(sl);
  let fin = md5().update(pw).update(sl).update(pw).digest();
  for (let pl = pw.length; pl > 0; pl -= 16) ctx.update(fin.subarray(0, Math.min(pl, 16)));
  for (let i = pw.length; i > 0; i >>= 1) ctx.update(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  fin = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = md5();
    c.update(i & 1 ? pw : fin);
    if (i % 3) c.update(sl);
    if (i % 7) c.update(pw);
    c.update(i & 1 ? fin : pw);
    fin = c.digest();
  }
  const f = fin;
  const enc =
    to64((f[0]! << 16) | (f[6]! << 8) | f[12]!, 4) +
    to64((f[1]! << 16) | (f[7]! << 8) | f[13]!, 4) +
    to64((f[2]! << 16) | (f[8]! << 8) | f[14]!, 4) +
    to64((f[3]! << 16) | (f[9]! << 8) | f[15]!, 4) +
    to64((f[4]! << 16) | (f[10]! << 8) | f[5]!, 4) +
    to64(f[11]!, 2);
  return `${magic}${salt.slice(0, 8)}$${enc}`;
}
