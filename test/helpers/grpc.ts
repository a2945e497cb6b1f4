// A real gRPC server and client for tests (@grpc/grpc-js, h2c on 127.0.0.1).
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ROOT } from './edgion.js';

const PROTO = path.join(ROOT, 'test', 'fixtures', 'echo.proto');

function pkg(): any {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, defaults: true });
  return (grpc.loadPackageDefinition(def) as any).edgiontest;
}

export interface GrpcBackend {
  port: number;
  close(): Promise<void>;
}

export async function startGrpcBackend(name: string): Promise<GrpcBackend> {
  const p = pkg();
  const server = new grpc.Server();
  const handler = (method: string) => (call: any, cb: grpc.sendUnaryData<any>) => {
    const md: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.metadata.getMap())) md[k] = String(v);
    if (md['x-fail']) return cb({ code: grpc.status.FAILED_PRECONDITION, details: `failing on request (${name})` });
    call.sendMetadata(new grpc.Metadata());
    const trailer = new grpc.Metadata();
    trailer.set('x-trailer', `t-${name}`);
    cb(null, { message: `Echo: ${call.request.text}`, server: name, method, metadata: md }, trailer);
  };
  server.addService(p.Echo.service, { Unary: handler('/edgiontest.Echo/Unary'), Other: handler('/edgiontest.Echo/Other') });
  server.addService(p.Admin.service, { Unary: handler('/edgiontest.Admin/Unary') });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p2) => (err ? reject(err) : resolve(p2))));
  return { port, close: () => new Promise((r) => server.tryShutdown(() => r())) };
}

export interface GrpcResult {
  ok: boolean;
  code: number;
  details?: string;
  response?: any;
  trailers?: Record<string, unknown>;
}

export function grpcCall(port: number, service: 'Echo' | 'Admin', method: string, text: string, opts: { authority?: string; metadata?: Record<string, string> } = {}): Promise<GrpcResult> {
  const p = pkg();
  const client = new p[service](`127.0.0.1:${port}`, grpc.credentials.createInsecure(), opts.authority ? { 'grpc.default_authority': opts.authority } : {});
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(opts.metadata ?? {})) md.set(k, v);
  return new Promise((resolve) => {
    // The callback and the 'status' event (which carries the trailers) come in either order.
    let result: GrpcResult | undefined;
    let trailers: Record<string, unknown> | undefined;
    const done = () => {
      if (result && trailers) {
        client.close();
        resolve({ ...result, trailers });
      }
    };
    const call = client[method]({ text }, md, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, resp: any) => {
      result = err ? { ok: false, code: err.code, details: err.details } : { ok: true, code: 0, response: resp };
      if (err) trailers ??= err.metadata?.getMap() ?? {};
      done();
    });
    call.on('status', (st: grpc.StatusObject) => {
      trailers = st.metadata.getMap();
      done();
    });
  });
}
