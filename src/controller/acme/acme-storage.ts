// Where ACME results live in standalone mode (DECISIONS.md §23): W/acme/<namespace>/<name>.yaml, each
// a Secret (the issued certificate under tls.crt/tls.key, or an account key under account.key). The
// controller loads them as resources, next to the configuration folder, and labels them as made by
// ACME. Files are written atomically (temp file + rename).

import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { SchemaValidator } from '../../api/index.js';
import type { IncomingResource, Obj } from '../store/resource-store.js';
import { identifyDocument, type ExtraValidator } from '../validate/identify.js';

export class AcmeStorage {
  readonly dir: string;
  private cache: IncomingResource[] | undefined;

  constructor(
    workDir: string,
    private readonly validator: SchemaValidator,
    private readonly extra?: ExtraValidator,
  ) {
    this.dir = path.join(workDir, 'acme');
  }

  private file(namespace: string, name: string): string {
    return path.join(this.dir, namespace, `${name}.yaml`);
  }

  /** A Secret stored by ACME, decoded; undefined when absent or unreadable. */
  readSecret(namespace: string, name: string): Record<string, string> | undefined {
    try {
      const doc = parseAllDocuments(fs.readFileSync(this.file(namespace, name), 'utf8'))[0]?.toJS() as Obj | undefined;
      if (!doc) return undefined;
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries((doc.data ?? {}) as Obj)) if (typeof v === 'string') out[k] = Buffer.from(v, 'base64').toString('utf8');
      return out;
    } catch {
      return undefined;
    }
  }

  writeSecret(namespace: string, name: string, data: Record<string, string>, labels: Record<string, string>, type = 'Opaque'): void {
    const file = this.file(namespace, name);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const body = [
      '# Written by the Edgion ACME service. Do not edit: it is replaced on renewal.',
      'apiVersion: v1',
      'kind: Secret',
      'metadata:',
      `  name: ${name}`,
      `  namespace: ${namespace}`,
      '  labels:',
      ...Object.entries(labels).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
      `type: ${type}`,
      'data:',
      ...Object.entries(data).map(([k, v]) => `  ${k}: ${Buffer.from(v).toString('base64')}`),
      '',
    ].join('\n');
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, body, { mode: 0o600 });
    fs.renameSync(tmp, file);
    this.cache = undefined;
  }

  /** Every stored Secret as a resource for the controller (cached until the next write). */
  resources(): IncomingResource[] {
    if (this.cache) return this.cache;
    const out: IncomingResource[] = [];
    let namespaces: string[] = [];
    try {
      namespaces = fs.readdirSync(this.dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      namespaces = [];
    }
    for (const ns of namespaces.sort()) {
      for (const f of fs.readdirSync(path.join(this.dir, ns)).filter((x) => x.endsWith('.yaml')).sort()) {
        const rel = `acme/${ns}/${f}`;
        try {
          const value = parseAllDocuments(fs.readFileSync(path.join(this.dir, ns, f), 'utf8'))[0]?.toJS();
          const r = identifyDocument({ file: rel, index: 0, line: 1, range: [0, 0], value, lineOf: () => 1 }, this.validator, this.extra);
          if (r.resource) out.push(r.resource);
        } catch {
          // a half-written or foreign file: skipped
        }
      }
    }
    this.cache = out;
    return out;
  }

  /** Forget the cached view (files changed outside this process). */
  invalidate(): void {
    this.cache = undefined;
  }
}
