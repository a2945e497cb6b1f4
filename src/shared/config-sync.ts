// Loads the config-sync gRPC definition (proto/config_sync.proto) for the controller's server and
// the gateway's client. Message types mirror the proto with proto-loader's defaults (camelCase).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export interface HelloMsg {
  gatewayId: string;
  gatewayName: string;
  pid: number;
  version: string;
  knownControllerId: string;
  knownVersion: string | number;
}

export interface AppliedMsg {
  version: string | number;
  ready: boolean;
  listenersJson: string;
  error: string;
}

export interface GatewayMsg {
  hello?: HelloMsg;
  applied?: AppliedMsg;
}

export interface ControllerMsg {
  controllerId: string;
  version: string | number;
  snapshotJson: Buffer;
}

function protoPath(): string {
  for (const rel of ['../../../proto/config_sync.proto', '../../proto/config_sync.proto']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (fs.existsSync(p)) return p;
  }
  return path.resolve('proto/config_sync.proto');
}

export function loadConfigSync(): grpc.ServiceClientConstructor & { service: grpc.ServiceDefinition } {
  const def = protoLoader.loadSync(protoPath(), { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { edgion: { config: { v1: { ConfigSync: grpc.ServiceClientConstructor & { service: grpc.ServiceDefinition } } } } };
  return pkg.edgion.config.v1.ConfigSync;
}
