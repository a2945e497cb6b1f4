// The gateway's side of the config stream: connect, say hello, apply every snapshot the controller
// sends and acknowledge it. When the controller is away the gateway keeps serving its last
// snapshot and reconnects with capped exponential backoff and jitter.

import * as grpc from '@grpc/grpc-js';
import type { Snapshot } from '../../ir/index.js';
import type { Logger } from '../../shared/logger.js';
import { loadConfigSync, type ControllerMsg, type GatewayMsg } from '../../shared/config-sync.js';
import { VERSION } from '../../shared/version.js';

export interface AppliedReport {
  version: number;
  ready: boolean;
  listeners: unknown[];
  error?: string;
}

export interface ConfigClientOptions {
  address: string;
  gatewayId: string;
  gatewayName: string;
  logger: Logger;
  onSnapshot(snapshot: Snapshot): Promise<AppliedReport>;
  /** First retry delay and cap (ms). */
  backoffMs?: [number, number];
}

export class ConfigClient {
  connected = false;
  lastContactAt: number | undefined;
  controllerId = '';
  version = 0;
  reconnects = 0;
  private client: grpc.Client | undefined;
  private stream: grpc.ClientDuplexStream<GatewayMsg, ControllerMsg> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private delay: number;
  private everConnected = false;

  constructor(private readonly opts: ConfigClientOptions) {
    this.delay = (opts.backoffMs ?? [500, 8000])[0];
  }

  start(): void {
    const Ctor = loadConfigSync();
    this.client = new Ctor(this.opts.address, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.max_receive_message_length': 256 * 1024 * 1024,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2000,
    });
    this.connect();
  }

  private connect(): void {
    if (this.closed || !this.client) return;
    const stream = (this.client as unknown as { sync(): grpc.ClientDuplexStream<GatewayMsg, ControllerMsg> }).sync();
    this.stream = stream;
    let failed = false;
    const fail = (why: string) => {
      if (failed) return;
      failed = true;
      if (this.stream === stream) this.stream = undefined;
      const was = this.connected;
      this.connected = false;
      if (this.closed) return;
      if (was || !this.everConnected) {
        this.opts.logger.warn({ controller: this.opts.address, reason: why }, was ? 'lost the controller; serving the last configuration and reconnecting' : 'cannot reach the controller yet; retrying');
      }
      this.schedule();
    };
    stream.on('data', (msg: ControllerMsg) => {
      if (!this.connected) {
        this.connected = true;
        this.everConnected = true;
        this.delay = (this.opts.backoffMs ?? [500, 8000])[0];
        this.opts.logger.info({ controller: this.opts.address }, 'connected to the controller');
      }
      this.lastContactAt = Date.now();
      void this.receive(stream, msg);
    });
    stream.on('error', (err: Error & { code?: number }) => fail(err.message));
    stream.on('end', () => fail('stream ended'));
    stream.on('status', () => undefined);
    stream.write({
      hello: {
        gatewayId: this.opts.gatewayId,
        gatewayName: this.opts.gatewayName,
        pid: process.pid,
        version: VERSION,
        knownControllerId: this.controllerId,
        knownVersion: String(this.version),
      },
    });
  }

  private async receive(stream: grpc.ClientDuplexStream<GatewayMsg, ControllerMsg>, msg: ControllerMsg): Promise<void> {
    let snapshot: Snapshot;
    try {
      snapshot = JSON.parse(Buffer.from(msg.snapshotJson).toString('utf8')) as Snapshot;
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message }, 'received an unreadable snapshot; ignoring it');
      return;
    }
    const report = await this.opts.onSnapshot(snapshot);
    this.controllerId = snapshot.controllerId;
    this.version = report.version;
    if (this.stream === stream) {
      stream.write({
        applied: { version: String(report.version), ready: report.ready, listenersJson: JSON.stringify(report.listeners), error: report.error ?? '' },
      });
    }
  }

  /** Re-sends the last applied state (after workers changed, for example). */
  report(report: AppliedReport): void {
    this.stream?.write({ applied: { version: String(report.version), ready: report.ready, listenersJson: JSON.stringify(report.listeners), error: report.error ?? '' } });
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    const [, cap] = this.opts.backoffMs ?? [500, 8000];
    const wait = this.delay + Math.floor(Math.random() * this.delay * 0.3);
    this.delay = Math.min(cap, this.delay * 2);
    this.reconnects++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, wait);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    try {
      this.stream?.end();
      this.stream?.cancel();
    } catch {
      // already gone
    }
    this.client?.close();
  }
}
