// The controller's side of the config stream (proto/config_sync.proto): every connected gateway
// gets the whole snapshot when it connects and again on every change; it acknowledges what it
// applied, which the admin API reports per gateway.

import * as grpc from '@grpc/grpc-js';
import type { Snapshot } from '../../ir/index.js';
import type { Logger } from '../../shared/logger.js';
import { loadConfigSync, type ControllerMsg, type GatewayMsg } from '../../shared/config-sync.js';

export interface GatewaySession {
  id: string;
  name: string;
  pid: number;
  version: string;
  peer: string;
  connectedAt: string;
  ackedVersion: number;
  ready: boolean;
  listeners: unknown[];
  error?: string;
}

interface Stream {
  session: GatewaySession;
  call: grpc.ServerDuplexStream<GatewayMsg, ControllerMsg>;
  sentVersion: number;
}

export class ConfigServer {
  private readonly server = new grpc.Server({
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    'grpc.max_send_message_length': 256 * 1024 * 1024,
  });
  private readonly streams = new Set<Stream>();
  private current: { snapshot: Snapshot; payload: Buffer } | undefined;
  private boundPort = 0;

  constructor(private readonly logger: Logger) {
    const Svc = loadConfigSync();
    this.server.addService(Svc.service, { sync: (call: grpc.ServerDuplexStream<GatewayMsg, ControllerMsg>) => this.onSync(call) });
  }

  get port(): number {
    return this.boundPort;
  }

  listen(bind: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const host = bind.includes(':') ? `[${bind}]` : bind;
      this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
        if (err) return reject(/EADDRINUSE|address already in use/i.test(err.message) ? new Error(`config stream port ${bind}:${port} is already in use`) : err);
        this.boundPort = bound;
        resolve(bound);
      });
    });
  }

  sessions(): GatewaySession[] {
    return [...this.streams].map((s) => ({ ...s.session }));
  }

  /** Sends `snapshot` to every connected gateway (and to gateways that connect later). */
  publish(snapshot: Snapshot): void {
    this.current = { snapshot, payload: Buffer.from(JSON.stringify(snapshot)) };
    for (const s of this.streams) this.send(s);
  }

  private send(s: Stream): void {
    const cur = this.current;
    if (!cur || s.sentVersion === cur.snapshot.version) return;
    s.sentVersion = cur.snapshot.version;
    s.call.write({ controllerId: cur.snapshot.controllerId, version: String(cur.snapshot.version), snapshotJson: cur.payload });
  }

  private onSync(call: grpc.ServerDuplexStream<GatewayMsg, ControllerMsg>): void {
    let stream: Stream | undefined;
    call.on('data', (msg: GatewayMsg) => {
      if (msg.hello) {
        const h = msg.hello;
        const session: GatewaySession = {
          id: h.gatewayId,
          name: h.gatewayName,
          pid: h.pid,
          version: h.version,
          peer: call.getPeer(),
          connectedAt: new Date().toISOString(),
          ackedVersion: 0,
          ready: false,
          listeners: [],
        };
        stream = { session, call, sentVersion: 0 };
        // A reconnect to the same controller run that already holds the current version needs no resend.
        if (this.current && h.knownControllerId === this.current.snapshot.controllerId && Number(h.knownVersion) === this.current.snapshot.version) {
          stream.sentVersion = this.current.snapshot.version;
          session.ackedVersion = this.current.snapshot.version;
        }
        this.streams.add(stream);
        this.logger.info({ gateway: session.name, id: session.id, pid: session.pid, peer: session.peer }, `gateway ${session.name} (pid ${session.pid}) connected`);
        this.send(stream);
      } else if (msg.applied && stream) {
        const a = msg.applied;
        stream.session.ackedVersion = Number(a.version);
        stream.session.ready = a.ready;
        try {
          stream.session.listeners = JSON.parse(a.listenersJson || '[]') as unknown[];
        } catch {
          stream.session.listeners = [];
        }
        if (a.error) stream.session.error = a.error;
        else delete stream.session.error;
      }
    });
    const done = () => {
      if (stream && this.streams.delete(stream)) {
        this.logger.info({ gateway: stream.session.name, id: stream.session.id }, `gateway ${stream.session.name} (pid ${stream.session.pid}) disconnected`);
      }
    };
    call.on('end', () => {
      done();
      call.end();
    });
    call.on('cancelled', done);
    call.on('error', done);
    call.on('close', done);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const s of this.streams) s.call.end();
      this.streams.clear();
      this.server.tryShutdown(() => resolve());
      setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 2000).unref();
    });
  }
}
