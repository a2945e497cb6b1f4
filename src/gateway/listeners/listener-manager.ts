// Binds the listener ports a runtime asks for and unbinds the ones it no longer has. A port server
// outlives snapshots: a reload that keeps a port keeps its open connections, and every request or
// connection reads the runtime that is current when it arrives. Each kind of port (HTTP, HTTPS,
// TCP, UDP, TLS passthrough) is a PortServer built by a factory registered for its family.

import type { Logger } from '../../shared/logger.js';
import type { GatewayRuntime } from '../compile/runtime.js';

export interface ListenerState {
  port: number;
  address: string;
  protocol: string;
  bound: boolean;
  error?: string;
}

export interface RuntimeRef {
  current: GatewayRuntime;
}

/** One bind the runtime asks for. `family` picks the factory. */
export interface PortSpec {
  family: string;
  port: number;
  /** undefined = all interfaces. */
  address: string | undefined;
  /** What to show in status (HTTP, HTTPS, TCP, UDP, TLS). */
  protocol: string;
}

export interface PortServer {
  readonly state: ListenerState;
  listen(): Promise<void>;
  /** A new runtime was swapped in (timeouts and limits may have changed). */
  update(runtime: GatewayRuntime): void;
  /** Stops accepting; connections in flight finish within `graceMs`. */
  close(graceMs: number): Promise<void>;
}

export type PortServerFactory = (spec: PortSpec, runtime: GatewayRuntime) => PortServer;

/** Lists the binds of a runtime; each family module contributes its ports. */
export type PortLister = (runtime: GatewayRuntime, bindOverride: string | undefined) => PortSpec[];

export function specKey(s: PortSpec): string {
  return `${s.family}|${s.address ?? '*'}|${s.port}`;
}

export class ListenerManager {
  private readonly servers = new Map<string, PortServer>();

  constructor(
    private readonly factories: Record<string, PortServerFactory>,
    private readonly listers: PortLister[],
    private readonly logger: Logger,
    private readonly bindOverride?: string,
  ) {}

  /** Makes the bound set match `runtime`; resolves once every new bind succeeded or failed. */
  async apply(runtime: GatewayRuntime): Promise<ListenerState[]> {
    const wanted = new Map<string, PortSpec>();
    for (const list of this.listers) for (const spec of list(runtime, this.bindOverride)) wanted.set(specKey(spec), spec);
    const closing: Promise<void>[] = [];
    for (const [key, server] of this.servers) {
      if (wanted.has(key)) continue;
      this.servers.delete(key);
      this.logger.info({ port: server.state.port, address: server.state.address }, `closing listener ${server.state.protocol} ${server.state.address}:${server.state.port} (no longer configured)`);
      closing.push(server.close(10_000));
    }
    const binds: Promise<void>[] = [];
    for (const [key, spec] of wanted) {
      const existing = this.servers.get(key);
      if (existing) {
        existing.update(runtime);
        if (!existing.state.bound) binds.push(existing.listen());
        continue;
      }
      const factory = this.factories[spec.family];
      if (!factory) {
        this.logger.error({ family: spec.family, port: spec.port }, `no listener implementation for ${spec.family}`);
        continue;
      }
      const server = factory(spec, runtime);
      this.servers.set(key, server);
      binds.push(server.listen());
    }
    void Promise.all(closing);
    await Promise.all(binds);
    return this.states();
  }

  states(): ListenerState[] {
    return [...this.servers.values()].map((s) => ({ ...s.state }));
  }

  async close(graceMs: number): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => s.close(graceMs)));
  }
}

/** Resolves once a net/http/tls server is listening or failed to bind; fills `state`. */
export function listenServer(
  server: { once(ev: string, fn: (...a: any[]) => void): unknown; off(ev: string, fn: (...a: any[]) => void): unknown; listen(opts: object): unknown },
  state: ListenerState,
  address: string | undefined,
  logger: Logger,
): Promise<void> {
  return new Promise((resolve) => {
    const onError = (err: Error & { code?: string }) => {
      server.off('listening', onListening);
      state.bound = false;
      state.error = err.code === 'EADDRINUSE' ? `port ${state.port} is already in use` : err.code === 'EACCES' ? `no permission to bind port ${state.port}` : err.message;
      logger.error({ port: state.port, address: address ?? '*', err: err.message }, `cannot bind ${state.protocol} listener ${address ?? '*'}:${state.port}: ${state.error}`);
      resolve();
    };
    const onListening = () => {
      server.off('error', onError);
      state.bound = true;
      delete state.error;
      logger.info({ port: state.port, address: address ?? '*' }, `listening on ${address ?? '*'}:${state.port} (${state.protocol})`);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port: state.port, ...(address ? { host: address } : {}) });
  });
}
