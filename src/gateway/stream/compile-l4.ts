// Snapshot → the layer-4 and TLS tables: TLS ports (HTTPS and TLS listeners, certificates by SNI,
// passthrough and terminated TLSRoutes), TCP and UDP ports with their routes, stream-plugin gates
// and the ACME HTTP-01 challenges. Pure and built once per snapshot; a connection only looks up.

import { createHash } from 'node:crypto';
import type { AcmeChallengeIR, BackendRefIR, ClientAuthIR, EdgionTlsIR, GatewayIR, ListenerIR, Snapshot, StreamRouteIR, TlsBundleIR, TlsVersionIR } from '../../ir/index.js';
import { compileStreamPlugins, type StreamCheck } from '../../plugins/stream/ip-restriction.js';
import { WeightedPicker, type GatewayRuntime } from '../compile/runtime.js';
import { http2Enabled } from '../compile/compile-snapshot.js';
import { HostIndex } from '../routing/host-index.js';

/** Stream plugins of one EdgionStreamPlugins at one attachment point. `error` = refuse everything. */
export interface StreamGate {
  name: string;
  checks: StreamCheck[];
  error?: string;
}

/** The first gate that refuses `ip`, with the reason; undefined = allowed. */
export function gateDecision(gates: readonly StreamGate[] | undefined, ip: string): string | undefined {
  if (gates === undefined) return undefined;
  for (const g of gates) {
    if (g.error !== undefined) return `${g.error} (connections are refused)`;
    for (const c of g.checks) {
      const why = c.check(ip);
      if (why !== undefined) return `EdgionStreamPlugins ${g.name} ${c.type}: ${why}`;
    }
  }
  return undefined;
}

export interface StreamBackend {
  ref: BackendRefIR;
}

/** A TCPRoute, UDPRoute or TLSRoute as attached to one listener. */
export interface CompiledStreamRoute {
  kind: StreamRouteIR['kind'];
  key: string;
  namespace: string;
  name: string;
  gateway: GatewayIR;
  listener: ListenerIR;
  picker: WeightedPicker<StreamBackend>;
  backends: StreamBackend[];
  gates: StreamGate[] | undefined;
  proxyProtocol: 'v1' | 'v2' | undefined;
  maxConnectRetries: number;
  sessionIdleMs: number;
  connectTimeoutMs: number;
}

/** What a TLS handshake uses: certificate, versions, ciphers, client-certificate rules. */
export interface TlsPolicy {
  /** Cache key of the SecureContext (content based). */
  contextKey: string;
  bundle: TlsBundleIR;
  minVersion?: TlsVersionIR;
  maxVersion?: TlsVersionIR;
  ciphers?: string;
  clientAuth?: ClientAuthIR;
  exposeClientCert: boolean;
  /** ssl.log `matched`. */
  matched: { kind: 'EdgionTls' | 'Gateway'; ns: string; name: string; section?: string; sv?: number };
}

export interface TlsListenerRuntime {
  gateway: GatewayIR;
  listener: ListenerIR;
  kind: 'https' | 'terminate' | 'passthrough';
  /** Listener certificates (certificateRefs), in order. */
  policies: TlsPolicy[];
  /**
   * The Gateway's client certificate validation (`spec.tls.frontend`) for this listener; EdgionTls
   * certificates without their own `clientAuth` served for names of this listener get it too.
   */
  clientAuth?: ClientAuthIR;
  /** EdgionTls policy → the same policy with this listener's `clientAuth`. */
  inherited: Map<TlsPolicy, TlsPolicy>;
  /** TLSRoutes by SNI (TLS listeners). */
  routes: HostIndex<CompiledStreamRoute>;
}

export interface TlsPortRuntime {
  port: number;
  bindAddresses: string[];
  gates: StreamGate[];
  listeners: HostIndex<TlsListenerRuntime>;
  edgionExact: Map<string, TlsPolicy>;
  edgionWildcards: { suffix: string; policy: TlsPolicy }[];
  fallbackSni?: string;
  /** securityProtect.requireSniHostMatch of the first Gateway on the port (names no listener owns). */
  requireSniHostMatch: boolean;
  /** Some listener on the port speaks HTTPS. */
  http: boolean;
  http2: boolean;
  handshakeTimeoutMs: number;
}

export interface StreamPortRuntime {
  port: number;
  protocol: 'TCP' | 'UDP';
  bindAddresses: string[];
  gateway: GatewayIR;
  listener: ListenerIR;
  gates: StreamGate[];
  /** The oldest route attached to the listener. */
  route: CompiledStreamRoute | undefined;
  /** UDP: sessions per worker before new clients are refused. */
  maxSessions: number;
}

export interface L4Runtime {
  tlsPorts: Map<number, TlsPortRuntime>;
  tcpPorts: Map<number, StreamPortRuntime>;
  udpPorts: Map<number, StreamPortRuntime>;
  /** Gateway-level gates of plain HTTP ports. */
  httpGates: Map<number, StreamGate[]>;
  /** ACME HTTP-01 challenges by token. */
  challenges: Map<string, AcmeChallengeIR[]>;
}

export const DEFAULT_UDP_MAX_SESSIONS = 4096;
const HANDSHAKE_TIMEOUT_MS = 10_000;

function hashOf(...parts: (string | undefined)[]): string {
  const h = createHash('sha1');
  for (const p of parts) h.update(p ?? '-').update('\0');
  return h.digest('hex').slice(0, 20);
}

function policyOf(bundle: TlsBundleIR, et: EdgionTlsIR | undefined, matched: TlsPolicy['matched'], gatewayAuth?: ClientAuthIR): TlsPolicy {
  const clientAuth = et?.clientAuth ?? gatewayAuth;
  return {
    contextKey: hashOf(bundle.certPem, bundle.keyPem, et?.minVersion, et?.maxVersion, et?.ciphers, clientAuth?.caPem),
    bundle,
    ...(et?.minVersion ? { minVersion: et.minVersion } : {}),
    ...(et?.maxVersion ? { maxVersion: et.maxVersion } : {}),
    ...(et?.ciphers ? { ciphers: et.ciphers } : {}),
    ...(clientAuth ? { clientAuth } : {}),
    exposeClientCert: et?.exposeClientCert ?? false,
    matched,
  };
}

export function compileL4(runtime: GatewayRuntime): L4Runtime {
  const snapshot: Snapshot = runtime.snapshot;
  const gates = new Map<string, StreamGate>();
  const gateOf = (key: string | undefined, tlsStage: boolean): StreamGate | undefined => {
    if (!key) return undefined;
    const cacheKey = `${key}|${tlsStage ? 'tls' : 'plain'}`;
    let g = gates.get(cacheKey);
    if (g) return g;
    const set = snapshot.streamPluginSets?.[key];
    if (!set) g = { name: key, checks: [], error: `EdgionStreamPlugins ${key} does not exist` };
    else if (!set.valid) g = { name: key, checks: [], error: `EdgionStreamPlugins ${key} is invalid: ${set.error ?? 'rejected'}` };
    else g = { name: key, checks: compileStreamPlugins(tlsStage && set.tlsRoutePlugins.length ? set.tlsRoutePlugins : set.plugins) };
    gates.set(cacheKey, g);
    return g;
  };
  const gatewayGate = (gw: GatewayIR): StreamGate | undefined => {
    const v = (gw.annotations['edgion.io/edgion-stream-plugins'] ?? gw.annotations['edgion.io/stream-plugins'])?.trim();
    return v ? gateOf(v.includes('/') ? v : `${gw.namespace}/${v}`, false) : undefined;
  };
  const addGate = (list: StreamGate[], g: StreamGate | undefined) => {
    if (g && !list.includes(g)) list.push(g);
  };

  const tlsPorts = new Map<number, TlsPortRuntime>();
  const tcpPorts = new Map<number, StreamPortRuntime>();
  const udpPorts = new Map<number, StreamPortRuntime>();
  const httpGates = new Map<number, StreamGate[]>();
  const tlsListeners = new Map<string, TlsListenerRuntime>();
  const streamListeners = new Map<string, StreamPortRuntime>();
  const gateways = [...snapshot.gateways].sort((a, b) => a.order - b.order);

  for (const gw of gateways) {
    const gwGate = gatewayGate(gw);
    const maxSessions = Number(gw.annotations['edgion.io/udp-max-sessions']);
    for (const l of gw.listeners) {
      if (!l.programmed) continue;
      if (l.protocol === 'HTTP') {
        let list = httpGates.get(l.port);
        if (!list) httpGates.set(l.port, (list = []));
        addGate(list, gwGate);
        continue;
      }
      if (l.protocol === 'HTTPS' || l.protocol === 'TLS') {
        let port = tlsPorts.get(l.port);
        if (!port) {
          port = {
            port: l.port,
            bindAddresses: gw.bindAddresses,
            gates: [],
            listeners: new HostIndex(),
            edgionExact: new Map(),
            edgionWildcards: [],
            ...(gw.config.securityProtect.fallbackSni ? { fallbackSni: gw.config.securityProtect.fallbackSni.toLowerCase() } : {}),
            requireSniHostMatch: gw.config.securityProtect.requireSniHostMatch,
            http: false,
            http2: http2Enabled(gw),
            handshakeTimeoutMs: Math.min(HANDSHAKE_TIMEOUT_MS, gw.config.httpTimeout.client.readTimeoutMs),
          };
          tlsPorts.set(l.port, port);
        }
        addGate(port.gates, gwGate);
        const mode = l.tls?.mode ?? 'Terminate';
        const kind = l.protocol === 'HTTPS' ? 'https' : mode === 'Passthrough' ? 'passthrough' : 'terminate';
        if (kind === 'https') port.http = true;
        const policies = (l.tls?.certificates ?? [])
          .map((k) => snapshot.tlsBundles[k])
          .filter((b): b is TlsBundleIR => b !== undefined)
          .map((b) => policyOf(b, undefined, { kind: 'Gateway', ns: gw.namespace, name: gw.name, section: l.name, sv: snapshot.version }, l.tls?.clientAuth));
        const lr: TlsListenerRuntime = { gateway: gw, listener: l, kind, policies, routes: new HostIndex(), inherited: new Map(), ...(l.tls?.clientAuth ? { clientAuth: l.tls.clientAuth } : {}) };
        const owner = port.listeners.getOrCreate(l.hostname ?? '*', () => lr);
        if (owner === lr) tlsListeners.set(`${gw.key}#${l.name}`, lr);
        continue;
      }
      const ports = l.protocol === 'TCP' ? tcpPorts : udpPorts;
      if (ports.has(l.port)) continue; // the controller reported the conflict; the first listener keeps the port
      const sp: StreamPortRuntime = {
        port: l.port,
        protocol: l.protocol,
        bindAddresses: gw.bindAddresses,
        gateway: gw,
        listener: l,
        gates: gwGate ? [gwGate] : [],
        route: undefined,
        maxSessions: Number.isInteger(maxSessions) && maxSessions > 0 ? maxSessions : DEFAULT_UDP_MAX_SESSIONS,
      };
      ports.set(l.port, sp);
      streamListeners.set(`${gw.key}#${l.name}`, sp);
    }
  }

  // EdgionTls certificates, on the ports their parentRefs resolved to.
  for (const et of snapshot.edgionTls ?? []) {
    const bundle = snapshot.tlsBundles[et.bundle];
    if (!bundle) continue;
    const policy = policyOf(bundle, et, { kind: 'EdgionTls', ns: et.namespace, name: et.name, sv: snapshot.version });
    for (const p of et.ports) {
      const port = tlsPorts.get(p);
      if (!port) continue;
      // Without its own clientAuth, it gets the client validation of the listener owning the name.
      if (!et.clientAuth) {
        for (const lr of port.listeners.values()) {
          if (lr.clientAuth && !lr.inherited.has(policy)) lr.inherited.set(policy, policyOf(bundle, et, policy.matched, lr.clientAuth));
        }
      }
      for (const h of et.hosts) {
        if (h.startsWith('*.')) {
          const suffix = h.slice(1);
          if (!port.edgionWildcards.some((w) => w.suffix === suffix)) port.edgionWildcards.push({ suffix, policy });
        } else if (!port.edgionExact.has(h)) port.edgionExact.set(h, policy);
      }
    }
  }
  for (const port of tlsPorts.values()) port.edgionWildcards.sort((a, b) => b.suffix.length - a.suffix.length);

  // Routes.
  const all = [...(snapshot.tcpRoutes ?? []), ...(snapshot.udpRoutes ?? []), ...(snapshot.tlsRoutes ?? [])].sort((a, b) => a.order - b.order);
  for (const route of all) {
    const rule = route.rules[0];
    if (!rule) continue;
    const backends = rule.backends.map((ref) => ({ ref }));
    for (const att of route.attachments) {
      const key = `${att.gateway}#${att.listener}`;
      const tl = tlsListeners.get(key);
      const sl = streamListeners.get(key);
      const gw = tl?.gateway ?? sl?.gateway;
      const listener = tl?.listener ?? sl?.listener;
      if (!gw || !listener) continue;
      const compiled: CompiledStreamRoute = {
        kind: route.kind,
        key: route.key,
        namespace: route.namespace,
        name: route.name,
        gateway: gw,
        listener,
        backends,
        picker: new WeightedPicker(backends),
        gates: route.streamPlugins ? [gateOf(route.streamPlugins, route.kind === 'TLSRoute')!] : undefined,
        proxyProtocol: route.proxyProtocol,
        maxConnectRetries: route.maxConnectRetries,
        sessionIdleMs: route.sessionIdleMs ?? 60_000,
        connectTimeoutMs: gw.config.httpTimeout.backend.connectTimeoutMs,
      };
      if (tl && route.kind === 'TLSRoute') {
        for (const h of att.hostnames) tl.routes.getOrCreate(h, () => compiled);
      } else if (sl && ((sl.protocol === 'TCP' && route.kind === 'TCPRoute') || (sl.protocol === 'UDP' && route.kind === 'UDPRoute'))) {
        sl.route ??= compiled;
      }
    }
  }

  const challenges = new Map<string, AcmeChallengeIR[]>();
  for (const c of snapshot.acmeChallenges ?? []) {
    let list = challenges.get(c.token);
    if (!list) challenges.set(c.token, (list = []));
    list.push(c);
  }
  return { tlsPorts, tcpPorts, udpPorts, httpGates, challenges };
}

/** The certificate policy for `name` on a TLS port: EdgionTls (exact, longest wildcard), then the listener's. */
export function selectPolicy(port: TlsPortRuntime, name: string, listener: TlsListenerRuntime | undefined): TlsPolicy | undefined {
  const exact = port.edgionExact.get(name);
  if (exact) return listener?.inherited.get(exact) ?? exact;
  for (const w of port.edgionWildcards) if (name.length > w.suffix.length && name.endsWith(w.suffix)) return listener?.inherited.get(w.policy) ?? w.policy;
  if (!listener || listener.policies.length === 0) return undefined;
  const ps = listener.policies;
  if (ps.length === 1) return ps[0];
  return (
    ps.find((p) => p.bundle.names.includes(name)) ??
    ps.find((p) => p.bundle.names.some((n) => n.startsWith('*.') && name.length > n.length - 1 && name.endsWith(n.slice(1)) && !name.slice(0, name.length - n.length + 1).includes('.'))) ??
    ps[0]
  );
}
