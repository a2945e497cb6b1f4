// Turns the snapshot's EdgionPlugins into runnable plugin sets. Instances are created once per
// (set, stage, position, config) and reused by later snapshots while their config is unchanged,
// so stateful plugins (rate-limit windows, LDAP connections, OIDC discovery) survive reloads.
// Instances no snapshot uses any more are closed after a grace period (requests in flight that
// started on the old snapshot still hold them).

import { createHash } from 'node:crypto';
import type { PluginEntryIR, PluginSetIR, PluginStage, Snapshot } from '../../ir/index.js';
import type { Logger } from '../../shared/logger.js';
import type { PluginRegistry } from '../../plugins/registry.js';
import type { LogShape } from './plugin-steps.js';
import type { PluginInstance, SharedCounters } from '../../plugins/runtime/define-plugin.js';
import { compileConditions, type CompiledConditions, type Conditions } from '../../plugins/runtime/conditions.js';
import type { WebhookResolver } from '../../plugins/runtime/key-get.js';

export interface CompiledEntry {
  type: string;
  /** Access-log fragments of this entry, filled on first use (plugin-steps.ts stageLogsJson). */
  logStage?: string;
  logPrefix?: string;
  /** stage_logs text around the timings, for runs that start with this entry (plugin-steps.ts). */
  logShape?: LogShape;
  /** This plugin type's counters, found on first run. */
  stats?: import('../observe/metrics.js').PluginStats;
  /** Position for logs: `requestPlugins[2]`. */
  where: string;
  instance: PluginInstance;
  conditions: CompiledConditions | undefined;
  /** For an `ExtensionRef` entry: the set it runs. */
  nested?: string;
  /** Entries the engine implements itself (RequestMirror): run with the full request context. */
  engineStep?: import('../pipeline/steps.js').RequestStep;
}

export interface CompiledPluginSet {
  key: string;
  valid: boolean;
  error?: string;
  request: CompiledEntry[];
  responseFilter: CompiledEntry[];
  response: CompiledEntry[];
  body: CompiledEntry[];
  /** Has an enabled Cors entry in requestPlugins (the gateway then leaves preflights to it). */
  cors: boolean;
}

export interface PluginHostDeps {
  logger: Logger;
  registry: PluginRegistry;
  counters: SharedCounters;
  webhook?: WebhookResolver;
  now?: () => number;
  /** The shared RequestMirror implementation (also used by the route filter). */
  mirrorStep?(ir: import('../../ir/index.js').RequestMirrorIR): import('../pipeline/steps.js').RequestStep;
}

const STAGE_FIELDS: [PluginStage, keyof Pick<CompiledPluginSet, 'request' | 'responseFilter' | 'response' | 'body'>][] = [
  ['requestPlugins', 'request'],
  ['upstreamResponseFilterPlugins', 'responseFilter'],
  ['upstreamResponsePlugins', 'response'],
  ['upstreamResponseBodyFilterPlugins', 'body'],
];

export const MAX_EXTENSION_DEPTH = 5;

export class PluginHost {
  private instances = new Map<string, PluginInstance>();
  private sets = new Map<string, CompiledPluginSet>();

  constructor(private readonly deps: PluginHostDeps) {}

  /** Compiles every plugin set of `snapshot`; call before the runtime that uses them is swapped in. */
  prepare(snapshot: Snapshot): void {
    const next = new Map<string, PluginInstance>();
    const sets = new Map<string, CompiledPluginSet>();
    for (const ir of Object.values(snapshot.pluginSets)) sets.set(ir.key, this.compileSet(ir, snapshot, next));
    // A Cors plugin reached through nested ExtensionRefs counts for the set that nests it.
    const hasCors = (set: CompiledPluginSet, seen: Set<string>): boolean => {
      if (set.cors) return true;
      if (seen.has(set.key)) return false;
      seen.add(set.key);
      return set.request.some((e) => e.nested !== undefined && sets.has(e.nested) && hasCors(sets.get(e.nested)!, seen));
    };
    for (const set of sets.values()) set.cors = hasCors(set, new Set());
    const old = this.instances;
    this.instances = next;
    this.sets = sets;
    const retired = [...old.entries()].filter(([k]) => !next.has(k)).map(([, v]) => v);
    if (retired.length) {
      setTimeout(() => {
        for (const inst of retired) {
          try {
            void inst.close?.();
          } catch {
            // a plugin that cannot close cleanly must not take the worker down
          }
        }
      }, 60_000).unref();
    }
  }

  get(key: string): CompiledPluginSet | undefined {
    return this.sets.get(key);
  }

  private compileSet(ir: PluginSetIR, snapshot: Snapshot, next: Map<string, PluginInstance>): CompiledPluginSet {
    const set: CompiledPluginSet = { key: ir.key, valid: ir.valid, ...(ir.error ? { error: ir.error } : {}), request: [], responseFilter: [], response: [], body: [], cors: false };
    if (!ir.valid) return set;
    try {
      for (const [stage, field] of STAGE_FIELDS) {
        ir[stage].forEach((entry, i) => {
          if (!entry.enable) return;
          const compiled = this.compileEntry(ir, stage, i, entry, snapshot, next);
          if (compiled) set[field].push(compiled);
        });
      }
      set.cors = ir.requestPlugins.some((e) => e.enable && e.type === 'Cors');
    } catch (err) {
      // A plugin that cannot be built fails closed: requests on routes using this set get 500.
      set.valid = false;
      set.error = (err as Error).message;
      this.deps.logger.error({ plugins: ir.key, err: (err as Error).message }, `EdgionPlugins ${ir.key} cannot be built: ${(err as Error).message}`);
    }
    return set;
  }

  private compileEntry(ir: PluginSetIR, stage: PluginStage, index: number, entry: PluginEntryIR, snapshot: Snapshot, next: Map<string, PluginInstance>): CompiledEntry | undefined {
    const where = `${stage}[${index}]`;
    // `webhookRef: name` means a LinkSys in the EdgionPlugins' own namespace.
    const resolver = this.deps.webhook;
    const webhook: WebhookResolver | undefined = resolver && ((ref, extract, s) => resolver(ref.includes('/') ? ref : `${ir.namespace}/${ref}`, extract, s));
    const conditions = compileConditions(entry.conditions as Conditions | undefined, webhook);
    if (entry.type === 'ExtensionRef') {
      const cfg = (entry.config ?? {}) as { name?: string; kind?: string };
      if (cfg.kind !== undefined && cfg.kind !== 'EdgionPlugins') return undefined; // other kinds are skipped
      return { type: 'ExtensionRef', where, instance: {}, conditions, nested: `${ir.namespace}/${cfg.name ?? ''}` };
    }
    if (entry.type === 'RequestMirror' && entry.mirror && this.deps.mirrorStep) {
      return { type: entry.type, where, instance: {}, conditions, engineStep: this.deps.mirrorStep(entry.mirror) };
    }
    const def = this.deps.registry.get(entry.type);
    if (!def) throw new Error(`${where}: unknown plugin type ${entry.type}`);
    // Only the LinkSys entries this plugin references take part in its identity.
    const linkSys: Record<string, { type: string; config: Record<string, unknown> }> = {};
    for (const ref of this.deps.registry.linkSysRefs(entry.type, entry.config)) {
      const k = ref.includes('/') ? ref : `${ir.namespace}/${ref}`;
      if (snapshot.linkSys[k]) linkSys[k] = snapshot.linkSys[k]!;
    }
    const hash = createHash('sha1').update(JSON.stringify([entry.config, entry.secrets ?? null, entry.secretsBinary ?? null, linkSys])).digest('hex');
    const key = `${ir.key}|${where}|${entry.type}|${hash}`;
    let instance = next.get(key) ?? this.instances.get(key);
    if (!instance) {
      const log = this.deps.logger.child({ plugin: entry.type, plugins: ir.key, at: where });
      instance = def.create(entry.config as never, {
        log,
        counters: this.deps.counters,
        secrets: entry.secrets ?? {},
        ...(entry.secretsBinary ? { secretsBinary: entry.secretsBinary } : {}),
        namespace: ir.namespace,
        linkSys,
        ...(webhook ? { webhook } : {}),
        now: this.deps.now ?? Date.now,
        id: key,
      });
    }
    next.set(key, instance);
    return { type: entry.type, where, instance, conditions };
  }
}
