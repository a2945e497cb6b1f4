// The controller's pipeline: source → identify + validate → store → translate → status → a new
// versioned snapshot for the gateways when the content changed. Bad input never stops it: a
// resource that fails validation is reported and its last good version keeps serving.

import { createHash, randomUUID } from 'node:crypto';
import type { SchemaValidator } from '../api/index.js';
import type { Snapshot } from '../ir/index.js';
import type { Diagnostic } from '../shared/diagnostics.js';
import { formatDiagnostic } from '../shared/diagnostics.js';
import type { Logger } from '../shared/logger.js';
import type { FileSource } from './source/file-source.js';
import { ResourceStore, type IncomingResource, type Obj, type StoredResource } from './store/resource-store.js';
import type { AcmeState } from './acme/acme-types.js';
import { identifyAll, type ExtraValidator } from './validate/identify.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { translate } from './translate/translate.js';
import type { ResourceView } from './translate/context.js';
import { invalidStatus } from './translate/invalid-status.js';

export const CONTROLLER_NAME = 'edgion.io/gateway-controller';

export interface ControllerOptions {
  source: FileSource;
  validator: SchemaValidator;
  logger: Logger;
  extraValidator?: ExtraValidator;
  plugins?: PluginRegistry;
  /** Resources that come from elsewhere than the folder (ACME certificates in W/acme/); the folder wins on a clash. */
  extraResources?: () => IncomingResource[];
  /** ACME service state for the EdgionAcme statuses and HTTP-01 challenges. */
  acmeStates?: () => Map<string, AcmeState>;
  controllerName?: string;
  now?: () => Date;
}

export type SnapshotListener = (snapshot: Snapshot) => void;

export class Controller {
  readonly id = randomUUID();
  readonly store: ResourceStore;
  snapshot: Snapshot | undefined;
  /** Problems not tied to a resource's current version: YAML syntax, duplicates, unknown kinds. */
  fileDiagnostics: Diagnostic[] = [];
  /** Semantic problems found by the translator. */
  semanticDiagnostics: Diagnostic[] = [];
  private version = 0;
  private contentHash = '';
  private readonly listeners = new Set<SnapshotListener>();
  private lastReported = new Map<string, string>();
  readonly startedAt = new Date();

  constructor(private readonly opts: ControllerOptions) {
    this.store = new ResourceStore(opts.now);
  }

  get controllerName(): string {
    return this.opts.controllerName ?? CONTROLLER_NAME;
  }

  onSnapshot(fn: SnapshotListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Re-reads the source and recomputes everything. Returns the snapshot (new or unchanged). */
  reload(reason = 'change'): Snapshot {
    const t0 = performance.now();
    const files = this.opts.source.files();
    const { resources, diagnostics } = identifyAll(files, this.opts.validator, this.opts.extraValidator);
    this.fileDiagnostics = [...this.opts.source.diagnostics(), ...diagnostics];
    for (const extra of this.opts.extraResources?.() ?? []) {
      if (!resources.some((r) => r.kind === extra.kind && r.namespace === extra.namespace && r.name === extra.name)) resources.push(extra);
    }
    this.store.sync(resources);
    const snapshot = this.recompute();
    this.report();
    this.opts.logger.debug({ reason, ms: Math.round(performance.now() - t0), version: snapshot.version }, 'reloaded');
    return snapshot;
  }

  /** Translate the store's good resources; publish when the snapshot content changed. */
  private recompute(): Snapshot {
    const now = (this.opts.now ?? (() => new Date()))();
    const views: ResourceView[] = [];
    for (const r of this.store.all()) {
      if (!r.good) continue;
      views.push({ kind: r.kind, namespace: r.namespace, name: r.name, key: r.key, obj: r.good, generation: r.goodGeneration, order: r.order, previousStatus: r.status });
    }
    const rejected = this.store
      .all()
      .filter((r) => !r.good)
      .map((r) => ({ kind: r.kind, namespace: r.namespace, name: r.name, reason: r.diagnostics.filter((d) => d.severity === 'error').map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; '), obj: r.current }));
    const result = translate({ resources: views, rejected, controllerName: this.controllerName, now, ...(this.opts.plugins ? { plugins: this.opts.plugins } : {}), ...(this.opts.acmeStates ? { acme: this.opts.acmeStates() } : {}) });
    this.semanticDiagnostics = result.diagnostics;
    for (const r of this.store.all()) {
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      r.status = errors.length ? invalidStatus(r, errors, now, result.statuses.get(r.key)) : result.statuses.get(r.key);
    }
    const content = result.content;
    const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex');
    if (hash !== this.contentHash || !this.snapshot) {
      this.contentHash = hash;
      this.version++;
      this.snapshot = { version: this.version, controllerId: this.id, generatedAt: now.toISOString(), ...content };
      for (const fn of this.listeners) fn(this.snapshot);
    }
    return this.snapshot;
  }

  /** Logs each problem once when it appears (not on every reload). */
  private report(): void {
    const current = new Map<string, string>();
    const all = [...this.fileDiagnostics, ...this.store.all().flatMap((r) => r.diagnostics), ...this.semanticDiagnostics];
    for (const d of all) {
      const line = formatDiagnostic(d);
      current.set(line, d.severity);
      if (!this.lastReported.has(line)) {
        if (d.severity === 'error') this.opts.logger.error({ resource: d.resource, path: d.path, file: d.location?.file, line: d.location?.line }, line);
        else this.opts.logger.warn({ resource: d.resource, path: d.path, file: d.location?.file, line: d.location?.line }, line);
      }
    }
    for (const line of this.lastReported.keys()) {
      if (!current.has(line)) this.opts.logger.info(`resolved: ${line}`);
    }
    this.lastReported = current;
    const rejected = this.rejected();
    this.opts.logger.info(
      { version: this.snapshot?.version, resources: this.store.all().length, rejected: rejected.length },
      `configuration version ${this.snapshot?.version}: ${this.store.all().length} resources${rejected.length ? `, ${rejected.length} rejected` : ''}`,
    );
  }

  /** Resources whose current version is not valid (they serve their last good version, if any). */
  rejected(): StoredResource[] {
    return this.store.all().filter((r) => r.diagnostics.some((d) => d.severity === 'error'));
  }

  allDiagnostics(): Diagnostic[] {
    return [...this.fileDiagnostics, ...this.store.all().flatMap((r) => r.diagnostics), ...this.semanticDiagnostics];
  }

  view(r: StoredResource): Obj {
    return this.store.view(r);
  }
}
