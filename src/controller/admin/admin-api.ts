// Controller admin API (CONTRACT.md, DECISIONS.md §42).

import { findKind, KINDS } from '../../api/index.js';
import { badRequest, json, notFound, type AdminHandler } from '../../shared/admin-http.js';
import { errorBody, ErrorCodes } from '../../shared/errors.js';
import { VERSION } from '../../shared/version.js';
import type { Applier } from '../apply.js';
import type { Controller } from '../controller.js';
import type { ConfigServer } from '../sync/config-server.js';

export interface ControllerAdminDeps {
  controller: Controller;
  applier: Applier;
  configServer: ConfigServer;
  confDir: string;
  ready(): boolean;
}

function unknownKind(kind: string) {
  return { status: 404, body: errorBody(ErrorCodes.UNKNOWN_KIND, `unknown kind "${kind}"`, { kinds: KINDS.map((k) => k.kind) }) };
}

export function controllerAdminHandler(d: ControllerAdminDeps): AdminHandler {
  const { controller } = d;
  return async (req) => {
    const [a, b, c, kindArg, x, y] = req.segments;
    if (a === 'health' && !b) return json(200, { status: 'ok' });
    if (a === 'ready' && !b) return d.ready() ? json(200, { ready: true }) : json(503, { ready: false, reason: 'initial load not finished' });
    if (a !== 'api' || b !== 'v1') return undefined;

    if (c === 'status' && !kindArg && req.method === 'GET') {
      const byKind: Record<string, number> = {};
      for (const r of controller.store.all()) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
      return json(200, {
        controller: { version: VERSION, pid: process.pid, startedAt: controller.startedAt.toISOString(), confDir: d.confDir, mode: 'standalone', id: controller.id },
        snapshot: { version: controller.snapshot?.version ?? 0, generatedAt: controller.snapshot?.generatedAt ?? null },
        gateways: d.configServer.sessions(),
        resources: {
          total: controller.store.all().length,
          byKind,
          rejected: controller.rejected().map((r) => ({
            kind: r.kind,
            ...(r.namespace ? { namespace: r.namespace } : {}),
            name: r.name,
            file: r.source?.file,
            line: r.source?.line,
            servingGeneration: r.good ? r.goodGeneration : null,
            reasons: r.diagnostics.filter((x) => x.severity === 'error').map((x) => (x.path ? `${x.path}: ${x.message}` : x.message)),
          })),
        },
        diagnostics: controller.allDiagnostics(),
      });
    }

    if (c === 'snapshot' && !kindArg && req.method === 'GET') return json(200, controller.snapshot ?? null);

    if (c === 'apply' && !kindArg) {
      if (req.method !== 'POST') return { status: 405, body: errorBody(ErrorCodes.METHOD_NOT_ALLOWED, 'use POST') };
      const body = await req.body();
      if (!body.trim()) return badRequest('empty body: send one or more YAML or JSON documents');
      const dryRun = /^(1|true|yes)$/i.test(req.query.get('dryRun') ?? '');
      const result = d.applier.apply(body, dryRun);
      if (result.results.length === 0 && result.errors.length) return badRequest('no resource could be read from the body', result.errors);
      const rejected = result.results.filter((r) => r.action === 'rejected').length + result.errors.length;
      const payload = { results: result.results, snapshotVersion: result.snapshotVersion, ...(result.errors.length ? { errors: result.errors } : {}) };
      if (rejected) {
        const total = result.results.length + result.errors.length;
        return json(422, { ...errorBody(ErrorCodes.INVALID, `${rejected} of ${total} resources rejected`, [...result.results, ...result.errors]), ...payload });
      }
      return json(200, payload);
    }

    if (c === 'resources' && kindArg) {
      const info = findKind(kindArg);
      if (!info) return unknownKind(kindArg);
      const ns = info.namespaced ? x : undefined;
      const name = info.namespaced ? y : x;
      if (req.method === 'GET' && !x) {
        const filter = req.query.get('namespace');
        const items = controller.store
          .ofKind(info.kind)
          .filter((r) => !filter || r.namespace === filter)
          .sort((p, q) => (p.namespace ?? '').localeCompare(q.namespace ?? '') || p.name.localeCompare(q.name))
          .map((r) => controller.view(r));
        return json(200, { items });
      }
      if (!name || (info.namespaced && req.segments.length !== 6) || (!info.namespaced && req.segments.length !== 5)) {
        return badRequest(info.namespaced ? `use /api/v1/resources/${info.kind}/{namespace}/{name}` : `use /api/v1/resources/${info.kind}/{name}`);
      }
      const r = controller.store.get(info.kind, ns, name);
      if (req.method === 'GET') return r ? json(200, controller.view(r)) : notFound(`${info.kind} ${ns ? ns + '/' : ''}${name} not found`);
      if (req.method === 'DELETE') {
        if (!r) return notFound(`${info.kind} ${ns ? ns + '/' : ''}${name} not found`);
        const out = d.applier.delete(info.kind, ns, name);
        return json(200, { deleted: { kind: info.kind, ...(ns ? { namespace: ns } : {}), name }, file: out.file, snapshotVersion: out.snapshotVersion });
      }
      return { status: 405, body: errorBody(ErrorCodes.METHOD_NOT_ALLOWED, `${req.method} is not supported here`) };
    }
    return undefined;
  };
}
