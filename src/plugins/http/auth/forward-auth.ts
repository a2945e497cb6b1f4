// ForwardAuth (plugins.md §4.6): asks an external auth service about each request (no body;
// the chosen request headers plus X-Forwarded-Host/Uri/Method/Query/Proto/For). A success status
// lets the request through with `upstreamHeaders` copied from the answer; any other status is
// passed to the client with the service's body and `clientHeaders`. An unreachable service gives
// `statusOnError` (or lets the request through with `allowDegradation`).

import { Agent, request, type Dispatcher } from 'undici';
import { Type } from 'typebox';
import { definePlugin, type PluginProblem, type PluginReply, type PluginSession, type RequestResult } from '../../runtime/define-plugin.js';
import { delayed } from '../../runtime/auth-reply.js';
import { DelayField, headerNameProblems, HideField, isSafeHeaderValue } from './common.js';

const Schema = Type.Object({
  uri: Type.String({ minLength: 1, description: 'http(s) URL of the auth service' }),
  requestMethod: Type.String({ minLength: 1, pattern: '^[A-Za-z]+$', default: 'GET' }),
  requestHeaders: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'request headers sent to the auth service; absent or empty = all but hop-by-hop' })),
  upstreamHeaders: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  clientHeaders: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  timeoutMs: Type.Integer({ minimum: 1, maximum: 600_000, default: 10_000 }),
  successStatusCodes: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1 })),
  allowDegradation: Type.Boolean({ default: false }),
  statusOnError: Type.Integer({ minimum: 100, maximum: 599, default: 503 }),
  hideCredentials: HideField,
  authFailureDelayMs: DelayField,
});

/** Never sent to the auth service (hop-by-hop, and what describes a body the call does not have). */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'trailers', 'transfer-encoding', 'upgrade', 'proxy-connection', 'host', 'content-length', 'expect']);
const X_FORWARDED = ['x-forwarded-host', 'x-forwarded-uri', 'x-forwarded-method', 'x-forwarded-query', 'x-forwarded-proto', 'x-forwarded-for'];
/** The auth service's failure body is passed on up to this size. */
const MAX_BODY = 64 * 1024;

const json = (status: number, message: string, error: string): PluginReply => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }), error });

function headerValue(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : v;
}

async function readCapped(body: Dispatcher.ResponseData['body'], max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    if (size + b.length > max) {
      chunks.push(b.subarray(0, max - size));
      body.destroy();
      break;
    }
    chunks.push(b);
    size += b.length;
  }
  return Buffer.concat(chunks);
}

export const ForwardAuth = definePlugin({
  type: 'ForwardAuth',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = [];
    try {
      const u = new URL(c.uri);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') out.push({ path: 'uri', message: `"${c.uri}" must be an http or https URL` });
    } catch {
      out.push({ path: 'uri', message: `"${c.uri}" is not a URL` });
    }
    out.push(...headerNameProblems(c.requestHeaders, 'requestHeaders'), ...headerNameProblems(c.upstreamHeaders, 'upstreamHeaders'), ...headerNameProblems(c.clientHeaders, 'clientHeaders'));
    return out;
  },
  create(c) {
    let url: URL | undefined;
    try {
      url = new URL(c.uri);
    } catch {
      url = undefined;
    }
    const agent = new Agent({ keepAliveTimeout: 30_000, connect: { timeout: c.timeoutMs } });
    const method = c.requestMethod.toUpperCase() as Dispatcher.HttpMethod;
    const only = c.requestHeaders?.length ? c.requestHeaders.map((h) => h.toLowerCase()).filter((h) => !NOT_FORWARDED.has(h)) : undefined;
    const upstream = c.upstreamHeaders.map((h) => h.toLowerCase());
    const client = c.clientHeaders.map((h) => h.toLowerCase());
    const ok = (status: number) => (c.successStatusCodes ? c.successStatusCodes.includes(status) : status >= 200 && status < 300);

    const authHeaders = (s: PluginSession): Record<string, string> => {
      const h: Record<string, string> = {};
      for (const name of only ?? s.headerNames()) {
        if (only === undefined && (NOT_FORWARDED.has(name) || X_FORWARDED.includes(name))) continue;
        const v = s.header(name);
        if (v !== undefined) h[name] = v;
      }
      h['x-forwarded-host'] = s.header('host') ?? s.host;
      h['x-forwarded-uri'] = s.path;
      h['x-forwarded-method'] = s.method;
      if (s.queryString) h['x-forwarded-query'] = s.queryString;
      else delete h['x-forwarded-query'];
      h['x-forwarded-proto'] = s.scheme;
      const xff = s.header('x-forwarded-for');
      h['x-forwarded-for'] = xff ? `${xff}, ${s.peerIp}` : s.peerIp;
      return h;
    };

    const unavailable = (s: PluginSession, why: string): RequestResult => {
      s.log(`auth service unavailable: ${why}`.slice(0, 160));
      if (c.allowDegradation) return undefined;
      return json(c.statusOnError, 'Auth service unavailable', 'ForwardAuthUnavailable');
    };

    return {
      async onRequest(s) {
        if (!url) return json(500, 'ForwardAuth configuration error', 'ForwardAuthConfig');
        let res: Dispatcher.ResponseData;
        try {
          res = await request(url, { method, headers: authHeaders(s), dispatcher: agent, signal: AbortSignal.timeout(c.timeoutMs), headersTimeout: c.timeoutMs, bodyTimeout: c.timeoutMs });
        } catch (err) {
          const e = err as { name?: string; code?: string; message?: string };
          return unavailable(s, e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timeout' : (e.code ?? e.message ?? 'error'));
        }
        if (ok(res.statusCode)) {
          res.body.resume();
          for (const h of upstream) {
            const v = headerValue(res.headers[h]);
            if (v !== undefined && isSafeHeaderValue(v)) s.setHeader(h, v);
            else s.removeHeader(h); // a client's own value never passes as the service's
          }
          if (c.hideCredentials) s.removeHeader('authorization');
          return undefined;
        }
        let body: Buffer;
        try {
          body = await readCapped(res.body, MAX_BODY);
        } catch (err) {
          return unavailable(s, `reading the answer: ${(err as Error).message}`);
        }
        // As the original: the connection is not reused after a denial (HTTP/2 drops the header).
        const headers: Record<string, string | string[]> = { 'content-type': headerValue(res.headers['content-type']) ?? 'application/json', connection: 'close' };
        for (const h of client) {
          const v = res.headers[h];
          if (v !== undefined) headers[h] = v;
        }
        s.log(`denied by the auth service: ${res.statusCode}`);
        return delayed(c.authFailureDelayMs, { status: res.statusCode, headers, body, error: 'ForwardAuthDenied' });
      },
      close() {
        void agent.close().catch(() => undefined);
      },
    };
  },
});
