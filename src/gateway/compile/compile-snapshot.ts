// Snapshot → GatewayRuntime. Pure: no I/O, no clocks; everything a request needs is decided here
// (regexes compiled, tables sorted, filters turned into steps) so the request path only looks up.

import type { BackendRefIR, ClusterIR, FilterIR, GatewayIR, ListenerIR, RetryIR, RouteMetaIR, SessionPersistenceIR, Snapshot } from '../../ir/index.js';
import { GrpcTable } from '../routing/grpc-table.js';
import { cidrList } from '../../shared/net.js';
import { compileUserRegex } from '../../shared/regex.js';
import { HostIndex } from '../routing/host-index.js';
import { RouteTable, type ValueMatcher } from '../routing/route-table.js';
import type { RequestStep, ResponseHeaderStep } from '../pipeline/steps.js';
import { requestHeaderModifier, responseHeaderModifier } from '../filters/header-modifiers.js';
import { requestRedirect } from '../filters/request-redirect.js';
import { urlRewrite } from '../filters/url-rewrite.js';
import {
  WeightedPicker,
  type CompiledBackend,
  type CompiledRule,
  type GatewayRuntime,
  type HostRoutes,
  type HttpPortRuntime,
  type ListenerRuntime,
  type ListenerSettings,
} from './runtime.js';

/** Extension points the compiler needs (plugin sets, mirrors); absent in unit tests. */
export interface CompileDeps {
  /** Builds the step for a non-built-in filter (ExtensionRef, RequestMirror, CORS...). */
  extraFilter?(filter: FilterIR, snapshot: Snapshot): { request?: RequestStep; response?: ResponseHeaderStep; cors?: boolean } | undefined;
  /** Steps for a Gateway's globalPluginsRef (EdgionPlugins keys). */
  globalSteps?(keys: string[]): RequestStep[];
  /** Whether those global plugin sets run a Cors plugin. */
  globalCors?(keys: string[]): boolean;
}

export function listenerSettings(gw: GatewayIR): ListenerSettings {
  const c = gw.config;
  const redirect = /^(true|1|yes|on)$/i.test(gw.annotations['edgion.io/http-to-https-redirect'] ?? '');
  const redirectPort = Number(gw.annotations['edgion.io/https-redirect-port'] ?? 443) || 443;
  return {
    xffLimit: c.securityProtect.xForwardedForLimit,
    trustedProxies: cidrList(c.realIp.trustedIps),
    realIpHeader: c.realIp.realIpHeader.toLowerCase(),
    maxHeaderBytes: c.securityProtect.maxHeaderBytes,
    maxHeaderCount: c.securityProtect.maxHeaderCount,
    maxConnections: c.securityProtect.maxConnections,
    clientReadTimeoutMs: c.httpTimeout.client.readTimeoutMs,
    clientKeepaliveTimeoutMs: c.httpTimeout.client.keepaliveTimeoutMs,
    keepaliveRequestLimit: c.server.downstreamKeepaliveRequestLimit,
    backendConnectTimeoutMs: c.httpTimeout.backend.connectTimeoutMs,
    backendRequestTimeoutMs: c.httpTimeout.backend.requestTimeoutMs,
    backendIdleTimeoutMs: c.httpTimeout.backend.idleTimeoutMs,
    maxRetries: c.maxRetries,
    requireSniHostMatch: c.securityProtect.requireSniHostMatch,
    ...(c.securityProtect.fallbackSni ? { fallbackSni: c.securityProtect.fallbackSni } : {}),
    ...(redirect ? { httpsRedirectPort: redirectPort } : {}),
  };
}

function valueMatchers(list: { name: string; type: 'Exact' | 'RegularExpression'; value: string }[]): ValueMatcher[] {
  return list.map((m) => (m.type === 'RegularExpression' ? { name: m.name, regex: compileUserRegex(m.value) } : { name: m.name, exact: m.value }));
}

function compileFilters(filters: FilterIR[], snapshot: Snapshot, deps: CompileDeps): { steps: RequestStep[]; responseSteps: ResponseHeaderStep[]; cors: boolean } {
  const steps: RequestStep[] = [];
  const responseSteps: ResponseHeaderStep[] = [];
  let cors = false;
  for (const f of filters) {
    switch (f.type) {
      case 'RequestHeaderModifier':
        steps.push(requestHeaderModifier(f));
        break;
      case 'ResponseHeaderModifier':
        responseSteps.push(responseHeaderModifier(f));
        break;
      case 'RequestRedirect':
        steps.push(requestRedirect(f));
        break;
      case 'URLRewrite':
        steps.push(urlRewrite(f));
        break;
      default: {
        const extra = deps.extraFilter?.(f, snapshot);
        if (extra?.request) steps.push(extra.request);
        if (extra?.response) responseSteps.push(extra.response);
        if (extra?.cors) cors = true;
      }
    }
  }
  return { steps, responseSteps, cors };
}

/** What compileRule needs of an HTTPRoute or GRPCRoute rule. */
interface RuleLike {
  index: number;
  filters: FilterIR[];
  backends: BackendRefIR[];
  timeouts: { requestMs?: number; backendRequestMs?: number };
  retry?: RetryIR;
  sessionPersistence?: SessionPersistenceIR;
}

function compileRule(route: RouteMetaIR & { maxRetries?: number }, rule: RuleLike, snapshot: Snapshot, deps: CompileDeps, grpc: boolean): CompiledRule {
  const { steps, responseSteps, cors } = compileFilters(rule.filters, snapshot, deps);
  const backends: CompiledBackend[] = rule.backends.map((ref) => {
    const f = compileFilters(ref.filters, snapshot, deps);
    return { ref, steps: f.steps, responseSteps: f.responseSteps };
  });
  return {
    routeKey: route.key,
    routeNamespace: route.namespace,
    routeName: route.name,
    ruleIndex: rule.index,
    steps,
    responseSteps,
    backends,
    picker: new WeightedPicker(backends),
    cors,
    grpc,
    retryNonIdempotent: /^(true|1|yes)$/i.test(route.annotations['edgion.io/retry-non-idempotent'] ?? ''),
    ...(rule.timeouts.requestMs !== undefined ? { requestTimeoutMs: rule.timeouts.requestMs } : {}),
    ...(rule.timeouts.backendRequestMs !== undefined ? { backendRequestTimeoutMs: rule.timeouts.backendRequestMs } : {}),
    ...(route.maxRetries !== undefined ? { maxRetries: route.maxRetries } : {}),
    ...(rule.retry ? { retry: rule.retry } : {}),
    ...(rule.sessionPersistence ? { sessionPersistence: rule.sessionPersistence } : {}),
  };
}

/** `edgion.io/enable-http2: "false"` (or 0, no, off) turns HTTP/2 off for a Gateway's listeners. */
export function http2Enabled(gw: GatewayIR): boolean {
  return !/^(false|0|no|off)$/i.test((gw.annotations['edgion.io/enable-http2'] ?? '').trim());
}

const isHttpListener = (l: ListenerIR): boolean => l.programmed && (l.protocol === 'HTTP' || l.protocol === 'HTTPS');

export function compileSnapshot(snapshot: Snapshot, deps: CompileDeps = {}): GatewayRuntime {
  const httpPorts = new Map<number, HttpPortRuntime>();
  const listenersByKey = new Map<string, ListenerRuntime>();
  const gateways = [...snapshot.gateways].sort((a, b) => a.order - b.order);

  for (const gw of gateways) {
    const settings = listenerSettings(gw);
    const globalSteps = gw.config.globalPlugins.length && deps.globalSteps ? deps.globalSteps(gw.config.globalPlugins) : [];
    const globalCors = gw.config.globalPlugins.length > 0 && (deps.globalCors?.(gw.config.globalPlugins) ?? false);
    for (const l of gw.listeners) {
      if (!isHttpListener(l)) continue;
      let port = httpPorts.get(l.port);
      if (port === undefined) {
        port = { port: l.port, tls: l.protocol === 'HTTPS', http2: http2Enabled(gw), bindAddresses: gw.bindAddresses, listeners: new HostIndex(), connection: settings };
        httpPorts.set(l.port, port);
      } else if (port.tls !== (l.protocol === 'HTTPS')) {
        continue; // mixed HTTP/HTTPS on one port: the controller reports the conflict; first one wins
      }
      const lr: ListenerRuntime = { gateway: gw, listener: l, settings, hosts: new HostIndex(), globalSteps, globalCors };
      const owner = port.listeners.getOrCreate(l.hostname ?? '*', () => lr);
      if (owner === lr) listenersByKey.set(`${gw.key}#${l.name}`, lr);
    }
  }

  const newHostRoutes = (): HostRoutes => ({ http: new RouteTable(), grpc: undefined });
  for (const route of snapshot.httpRoutes) {
    const rules = route.rules.map((r) => compileRule(route, r, snapshot, deps, false));
    for (const att of route.attachments) {
      const lr = listenersByKey.get(`${att.gateway}#${att.listener}`);
      if (lr === undefined) continue;
      for (const hostname of att.hostnames) {
        const table = lr.hosts.getOrCreate(hostname, newHostRoutes).http;
        route.rules.forEach((rule, ri) => {
          rule.matches.forEach((m, mi) => {
            table.add({
              rule: rules[ri]!,
              routeOrder: route.order,
              routeKey: route.key,
              ruleIndex: rule.index,
              matchIndex: mi,
              path: m.path.type === 'RegularExpression' ? { ...m.path, regex: compileUserRegex(m.path.value) } : m.path,
              ...(m.method !== undefined ? { method: m.method } : {}),
              headers: valueMatchers(m.headers),
              query: valueMatchers(m.queryParams),
            });
          });
        });
      }
    }
  }
  for (const route of snapshot.grpcRoutes) {
    const rules = route.rules.map((r) => compileRule(route, r, snapshot, deps, true));
    for (const att of route.attachments) {
      const lr = listenersByKey.get(`${att.gateway}#${att.listener}`);
      if (lr === undefined) continue;
      for (const hostname of att.hostnames) {
        const hr = lr.hosts.getOrCreate(hostname, newHostRoutes);
        const table = (hr.grpc ??= new GrpcTable());
        route.rules.forEach((rule, ri) => {
          rule.matches.forEach((m, mi) => {
            table.add({
              rule: rules[ri]!,
              routeOrder: route.order,
              routeKey: route.key,
              ruleIndex: rule.index,
              matchIndex: mi,
              ...(m.service ? { service: m.service } : {}),
              ...(m.method ? { method: m.method } : {}),
              headers: valueMatchers(m.headers),
            });
          });
        });
      }
    }
  }
  for (const port of httpPorts.values()) {
    for (const lr of port.listeners.values()) {
      for (const hr of lr.hosts.values()) {
        hr.http.finalize();
        hr.grpc?.finalize();
      }
    }
  }

  const clusters = new Map<string, ClusterIR>(Object.entries(snapshot.clusters));
  return { version: snapshot.version, controllerId: snapshot.controllerId, snapshot, httpPorts, clusters };
}
