// FAKE admin APIs for testing edgion-ctl on its own.
//
// The real controller and gateway are built on other branches; these node:http
// servers implement just enough of their admin APIs (as the interface notes of the
// CLI task describe them) to drive the CLI for real over loopback:
//   controller: /health /ready /api/v1/status, GET/DELETE /api/v1/resources/..., POST /api/v1/apply
//   gateway:    /health /ready /api/v1/status /api/v1/config/{kind}
// Rejection is simulated: a document with the annotation `fake.edgion.io/reject: <reason>`
// is rejected with that reason. Listen on port 0 in tests.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAllDocuments } from 'yaml';

export interface FakeResource {
  apiVersion?: string;
  kind: string;
  metadata: { name: string; namespace?: string; creationTimestamp?: string; annotations?: Record<string, string>; [k: string]: unknown };
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

const CLUSTER_KINDS = new Set(['gatewayclass', 'edgiongatewayconfig', 'namespace']);
export const REJECT_ANNOTATION = 'fake.edgion.io/reject';

function kindKey(kind: string): string {
  const k = kind.toLowerCase();
  if (k.endsWith('classes')) return k.slice(0, -2);
  if (k.endsWith('policies')) return k.slice(0, -3) + 'y';
  return k.endsWith('s') && !k.endsWith('plugins') && k !== 'endpoints' && k !== 'linksys' ? k.slice(0, -1) : k;
}

function resKey(kind: string, namespace: string | undefined, name: string): string {
  const k = kindKey(kind);
  return CLUSTER_KINDS.has(k) ? `${k}//${name}` : `${k}/${namespace ?? 'default'}/${name}`;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string, details: unknown = null): void {
  send(res, status, { error: { code, message, details } });
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export interface Listening {
  server: http.Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

async function listen(server: http.Server, port: number): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const p = (server.address() as AddressInfo).port;
  return {
    server,
    port: p,
    url: `http://127.0.0.1:${p}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface FakeControllerOptions {
  port?: number;
  token?: string;
  resources?: FakeResource[];
  /** Rejected resources as /api/v1/status reports them. */
  rejected?: Array<{ kind: string; namespace?: string; name: string; reasons: string[] }>;
  gateways?: Array<{ id: string; name: string; pid: number; ackedVersion: number }>;
}

export interface FakeController extends Listening {
  resources: Map<string, FakeResource>;
  requests: RecordedRequest[];
  snapshotVersion: number;
}

export async function startFakeController(options: FakeControllerOptions = {}): Promise<FakeController> {
  const resources = new Map<string, FakeResource>();
  const requests: RecordedRequest[] = [];
  const state = { snapshotVersion: 1 };
  const startedAt = new Date().toISOString();
  for (const r of options.resources ?? []) resources.set(resKey(r.kind, r.metadata.namespace, r.metadata.name), r);

  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
    const url = new URL(req.url ?? '/', 'http://fake');
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      return sendError(res, 401, 'EDG_ERR_UNAUTHORIZED', 'missing or wrong bearer token');
    }
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (url.pathname === '/health' || url.pathname === '/ready') return send(res, 200, { status: 'ok' });
    if (url.pathname === '/api/v1/status') {
      const byKind: Record<string, number> = {};
      for (const r of resources.values()) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
      return send(res, 200, {
        controller: { version: '0.1.0', pid: process.pid, startedAt, confDir: '/fake/conf', mode: 'standalone' },
        snapshot: { version: state.snapshotVersion, generatedAt: startedAt },
        gateways: options.gateways ?? [],
        resources: { total: resources.size, byKind, rejected: options.rejected ?? [] },
        diagnostics: [],
      });
    }
    if (parts[0] === 'api' && parts[1] === 'v1' && parts[2] === 'resources' && parts.length >= 4) {
      const kind = parts[3]!;
      if (parts.length === 4 && req.method === 'GET') {
        const ns = url.searchParams.get('namespace');
        const items = [...resources.values()].filter(
          (r) => kindKey(r.kind) === kindKey(kind) && (!ns || (r.metadata.namespace ?? 'default') === ns),
        );
        return send(res, 200, { items });
      }
      const [namespace, name] = parts.length === 6 ? [parts[4], parts[5]!] : [undefined, parts[4]!];
      const key = resKey(kind, namespace, name);
      const found = resources.get(key);
      if (!found) return sendError(res, 404, 'EDG_ERR_NOT_FOUND', `${kind} ${namespace ? `${namespace}/` : ''}${name} not found`);
      if (req.method === 'GET') return send(res, 200, found);
      if (req.method === 'DELETE') {
        resources.delete(key);
        state.snapshotVersion += 1;
        return send(res, 200, {
          deleted: { kind: found.kind, namespace: found.metadata.namespace ?? null, name },
          snapshotVersion: state.snapshotVersion,
        });
      }
    }
    if (url.pathname === '/api/v1/apply' && req.method === 'POST') return apply(res, body, url.searchParams.get('dryRun') === 'true');
    sendError(res, 404, 'EDG_ERR_NOT_FOUND', `no route for ${req.method} ${url.pathname}`);
  });

  function apply(res: http.ServerResponse, body: string, dryRun: boolean): void {
    const docs = parseAllDocuments(body);
    if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) {
      return sendError(res, 400, 'EDG_ERR_PARSE', 'request body is not YAML or JSON');
    }
    const results = [];
    let changed = false;
    for (const doc of docs) {
      const r = doc.toJS() as FakeResource | null;
      if (!r) continue;
      const namespace = CLUSTER_KINDS.has(kindKey(r.kind)) ? undefined : (r.metadata.namespace ?? 'default');
      const key = resKey(r.kind, namespace, r.metadata.name);
      const file = `applied/${r.kind}_${namespace ?? ''}_${r.metadata.name}.yaml`;
      const base = { kind: r.kind, namespace: namespace ?? null, name: r.metadata.name, dryRun, file };
      const reason = r.metadata.annotations?.[REJECT_ANNOTATION];
      if (reason) {
        results.push({
          ...base,
          action: 'rejected',
          diagnostics: [
            {
              severity: 'error',
              code: 'EDG_SCHEMA',
              resource: { kind: r.kind, namespace, name: r.metadata.name },
              path: 'spec',
              message: reason,
              location: { file, line: 1 },
            },
          ],
        });
        continue;
      }
      const existing = resources.get(key);
      const same = existing && JSON.stringify(existing.spec ?? null) === JSON.stringify(r.spec ?? null);
      const action = !existing ? 'created' : same ? 'unchanged' : 'updated';
      if (!dryRun && action !== 'unchanged') {
        changed = true;
        resources.set(key, {
          ...r,
          metadata: { ...r.metadata, namespace, creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString() },
          status: acceptedStatus(r),
        });
      }
      results.push({ ...base, action, diagnostics: [] });
    }
    if (changed) state.snapshotVersion += 1;
    const rejected = results.filter((r) => r.action === 'rejected');
    if (rejected.length > 0) {
      return send(res, 422, {
        error: { code: 'EDG_ERR_INVALID', message: `${rejected.length} of ${results.length} resources rejected`, details: results },
        results,
        snapshotVersion: state.snapshotVersion,
      });
    }
    send(res, 200, { results, snapshotVersion: state.snapshotVersion });
  }

  const listening = await listen(server, options.port ?? 0);
  // An object literal (not Object.assign) so the accessors stay live.
  return {
    ...listening,
    resources,
    requests,
    get snapshotVersion() {
      return state.snapshotVersion;
    },
    set snapshotVersion(v: number) {
      state.snapshotVersion = v;
    },
  };
}

function acceptedStatus(r: FakeResource): unknown {
  const conditions = [
    { type: 'Accepted', status: 'True', reason: 'Accepted' },
    { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' },
  ];
  if (r.kind.endsWith("Route")) {
    const spec = (r.spec ?? {}) as { parentRefs?: unknown[] };
    return { parents: (spec.parentRefs ?? [{}]).map((parentRef) => ({ parentRef, controllerName: 'edgion.io/gateway-controller', conditions })) };
  }
  return { conditions: [...conditions, { type: 'Programmed', status: 'True', reason: 'Programmed' }] };
}

export interface FakeGatewayOptions {
  port?: number;
  token?: string;
  ready?: boolean;
  /** The config version the gateway reports; a function to make it move. */
  configVersion?: number | (() => number);
  listeners?: Array<{ port: number; address: string; protocol: string; gateways: string[]; bound: boolean; error: string | null }>;
}

export interface FakeGateway extends Listening {
  ready: boolean;
  configVersion: number | (() => number);
  requests: RecordedRequest[];
}

export async function startFakeGateway(options: FakeGatewayOptions = {}): Promise<FakeGateway> {
  const requests: RecordedRequest[] = [];
  const startedAt = new Date().toISOString();
  const state: { ready: boolean; configVersion: number | (() => number) } = {
    ready: options.ready ?? true,
    configVersion: options.configVersion ?? 1,
  };
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      return sendError(res, 401, 'EDG_ERR_UNAUTHORIZED', 'missing or wrong bearer token');
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return send(res, 200, { status: 'ok' });
    if (path === '/ready') return state.ready ? send(res, 200, { ready: true }) : send(res, 503, { ready: false });
    if (path === '/api/v1/status') {
      const version = typeof state.configVersion === 'function' ? state.configVersion() : state.configVersion;
      return send(res, 200, {
        gateway: { version: '0.1.0', pid: process.pid, startedAt, workers: 1 },
        ready: state.ready,
        controller: { address: '127.0.0.1:5810', connected: true },
        config: { version, appliedAt: startedAt },
        listeners: options.listeners ?? [{ port: 8080, address: '127.0.0.1', protocol: 'HTTP', gateways: ['default/demo'], bound: true, error: null }],
        requests: { total: 3, inFlight: 0 },
      });
    }
    if (path?.startsWith('/api/v1/config/')) return send(res, 200, { items: [] });
    sendError(res, 404, 'EDG_ERR_NOT_FOUND', `no route for ${path}`);
  });
  const listening = await listen(server, options.port ?? 0);
  return {
    ...listening,
    requests,
    get ready() {
      return state.ready;
    },
    set ready(v: boolean) {
      state.ready = v;
    },
    get configVersion() {
      return state.configVersion;
    },
    set configVersion(v: number | (() => number)) {
      state.configVersion = v;
    },
  };
}
