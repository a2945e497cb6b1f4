// DirectEndpoint (plugins.md §4.24): sends the request to one specific endpoint (pod address) of
// the rule's backendRefs, named by a request value. The address must be a ready-or-not endpoint of
// one of those backends (with that port); anything else is refused (403) or falls back to normal
// load balancing. Without a port in the value or the config, the backendRef's port is used, i.e.
// the endpoint port its Service port maps to (DECISIONS.md §31). Skipped for gRPC requests.
import { isIP } from 'node:net';
import { Type } from 'typebox';
import { definePlugin, type PluginReply, type PluginSession } from '../../runtime/define-plugin.js';
import { badRequest, compileFrom, forbidden, FromFields, fromProblems } from './upstream-common.js';

const Schema = Type.Object({
  ...FromFields,
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  onMissing: Type.Union([Type.Literal('fallback'), Type.Literal('reject')], { default: 'fallback' }),
  onInvalid: Type.Union([Type.Literal('reject'), Type.Literal('fallback')], { default: 'reject' }),
  inheritTls: Type.Boolean({ default: true }),
  debugHeader: Type.Boolean({ default: false }),
});

/** `10.0.0.1`, `10.0.0.1:8080`, `[fd00::1]:8080`, `fd00::1` → address and optional port. */
export function parseAddress(v: string): { address: string; port?: number } | undefined {
  const t = v.trim();
  let address = t;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6) {
    address = v6[1]!;
    portText = v6[2];
  } else if (t.split(':').length === 2) {
    [address, portText] = t.split(':') as [string, string];
  }
  if (isIP(address) === 0) return undefined;
  if (portText === undefined) return { address: address.toLowerCase() };
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  return { address: address.toLowerCase(), port };
}

export const DirectEndpoint = definePlugin({
  type: 'DirectEndpoint',
  stages: ['requestPlugins'],
  schema: Schema,
  validate: (c) => fromProblems(c),
  create(c, deps) {
    const valueOf = compileFrom(c, deps.webhook);
    const decide = (s: PluginSession, v: string | undefined): PluginReply | undefined => {
      if (v === undefined) {
        if (c.onMissing === 'reject') return badRequest('no target endpoint in the request', 'DirectEndpointMissing');
        return undefined;
      }
      const parsed = parseAddress(v);
      if (parsed === undefined) {
        s.log(`unparsable: ${v}`);
        if (c.onInvalid === 'reject') return badRequest(`"${v}" is not an endpoint address`, 'DirectEndpointInvalid');
        return undefined;
      }
      const port = parsed.port ?? c.port;
      const backends = s.backends();
      for (let i = 0; i < backends.length; i++) {
        const b = backends[i]!;
        const ep = b.endpoints.find((e) => e.address.toLowerCase() === parsed.address && (port === undefined || e.port === port));
        if (ep === undefined) continue;
        s.setUpstream({ kind: 'endpoint', backend: i, address: ep.address, port: ep.port, ...(c.inheritTls ? {} : { inheritTls: false }) });
        const shown = ep.address.includes(':') ? `[${ep.address}]:${ep.port}` : `${ep.address}:${ep.port}`;
        s.log(`endpoint ${shown}`);
        if (c.debugHeader) s.setResponseHeader('x-direct-endpoint', shown);
        return undefined;
      }
      const shown = port === undefined ? parsed.address : `${parsed.address}:${port}`;
      s.log(`not an endpoint: ${shown}`);
      if (c.onInvalid === 'reject') return forbidden(`${shown} is not an endpoint of this route's backends`, 'DirectEndpointNotAllowed');
      return undefined;
    };
    return {
      onRequest(s) {
        if (s.grpc) return undefined;
        const v = valueOf(s);
        return v instanceof Promise ? v.then((x) => decide(s, x)) : decide(s, v);
      },
    };
  },
});
