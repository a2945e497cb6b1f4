// KeyGet (plugins.md §2): where a plugin reads a value from the request. Compiled once per plugin
// instance into an accessor. Empty strings count as missing.

import { Type, type Static } from 'typebox';
import type { PluginSession } from './define-plugin.js';

export const KeyGetSchema = Type.Object(
  {
    type: Type.Enum(['clientIp', 'header', 'cookie', 'query', 'path', 'method', 'ctx', 'clientIpAndPath', 'webhook'], { description: 'where the value comes from' }),
    name: Type.Optional(Type.String({ minLength: 1 })),
    webhookRef: Type.Optional(Type.String()),
    extract: Type.Optional(
      Type.Object({
        source: Type.Enum(['header', 'cookie', 'body', 'bodyText']),
        name: Type.Optional(Type.String()),
        path: Type.Optional(Type.String()),
      }),
    ),
  },
  { additionalProperties: true },
);

export type KeyGet = Static<typeof KeyGetSchema>;

export type KeyAccessor = (s: PluginSession) => string | undefined | Promise<string | undefined>;

/** Resolves a `webhook` key (LinkSys webhook call); provided by the gateway engine. */
export type WebhookResolver = (ref: string, extract: KeyGet['extract'], s: PluginSession) => Promise<string | undefined>;

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

export function keyGetProblems(k: KeyGet, path: string): { path: string; message: string }[] {
  const needsName = ['header', 'cookie', 'query', 'ctx'];
  if (needsName.includes(k.type) && !k.name) return [{ path: `${path}.name`, message: `a ${k.type} key needs a name` }];
  if (k.type === 'webhook') {
    if (!k.webhookRef) return [{ path: `${path}.webhookRef`, message: 'a webhook key needs webhookRef (namespace/name of a LinkSys)' }];
    if (k.webhookRef.split('/').length > 2 || k.webhookRef.startsWith('/') || k.webhookRef.endsWith('/')) return [{ path: `${path}.webhookRef`, message: `"${k.webhookRef}" is not "namespace/name" or "name"` }];
    const ex = k.extract;
    if (!ex) return [{ path: `${path}.extract`, message: 'a webhook key needs extract ({source: header|cookie, name} or {source: body, path} or {source: bodyText})' }];
    if ((ex.source === 'header' || ex.source === 'cookie') && !ex.name) return [{ path: `${path}.extract.name`, message: `extract from a ${ex.source} needs a name` }];
    if (ex.source === 'body' && !ex.path) return [{ path: `${path}.extract.path`, message: 'extract from the body needs a path (dot path into the JSON, e.g. data.tenant.id)' }];
  }
  return [];
}

export function compileKeyGet(k: KeyGet, webhook?: WebhookResolver): KeyAccessor {
  const name = k.name ?? '';
  switch (k.type) {
    case 'clientIp':
      return (s) => nonEmpty(s.clientIp);
    case 'header': {
      const h = name.toLowerCase();
      return (s) => nonEmpty(s.header(h));
    }
    case 'cookie':
      return (s) => nonEmpty(s.cookie(name));
    case 'query':
      return (s) => nonEmpty(s.query(name));
    case 'path':
      return (s) => s.path;
    case 'method':
      return (s) => s.method;
    case 'ctx':
      return (s) => nonEmpty(s.getVar(name));
    case 'clientIpAndPath':
      return (s) => `${s.clientIp}:${s.path}`;
    case 'webhook': {
      const ref = k.webhookRef ?? '';
      return (s) => (webhook ? webhook(ref, k.extract, s) : undefined);
    }
    default:
      return () => undefined;
  }
}

/** Short description for logs: `hdr:x-api-key`, `query:apikey`. */
export function describeKey(k: KeyGet): string {
  const short: Record<string, string> = { header: 'hdr', cookie: 'cookie', query: 'query', ctx: 'ctx', webhook: 'webhook' };
  return short[k.type] ? `${short[k.type]}:${k.name ?? k.webhookRef ?? ''}` : k.type;
}

/** Parses a Cookie header for one name. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v);
      } catch {
        return v;
      }
    }
  }
  return undefined;
}
