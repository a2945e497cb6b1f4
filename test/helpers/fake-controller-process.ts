// FAKE edgion-controller for supervisor tests (see fake-process-common.ts).
// Serves the fake controller admin API and accepts TCP connections on the gRPC port.

import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startFakeController } from './fake-admin.js';
import { flag, setupFakeProcess } from './fake-process-common.js';

const args = process.argv.slice(2);
const fake = setupFakeProcess('controller', args);
fake.log(`fake controller: starting with conf dir ${flag(args, '--conf-dir')}`);

const admin = await startFakeController({ port: Number(flag(args, '--admin-port') ?? 5800), token: process.env.EDGION_ADMIN_TOKEN });
const grpc = net.createServer((socket) => socket.end());
await new Promise<void>((resolve) => grpc.listen(Number(flag(args, '--grpc-port') ?? 5810), '127.0.0.1', resolve));
const grpcPort = (grpc.address() as AddressInfo).port;

fake.onStop(async () => {
  grpc.close();
  await admin.close();
});
fake.writeRunFile({ admin: admin.port, grpc: grpcPort }, admin.url);
fake.log(`fake controller: admin ${admin.url}, grpc 127.0.0.1:${grpcPort}`);
