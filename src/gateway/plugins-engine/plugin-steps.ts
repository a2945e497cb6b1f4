// Running plugin sets on a request. The request stage is a RequestStep (an ExtensionRef filter, or
// the Gateway's global plugins); it stays synchronous until a plugin returns a promise. A plugin
// that throws answers 500 and is named in the log; a set that is missing or was never valid fails
// closed (500), so an auth plugin never silently disappears.

import type { PluginReply, PluginResponse, RequestResult } from '../../plugins/runtime/define-plugin.js';
import type { RequestContext } from '../proxy/context.js';
import type { Reply, RequestStep, ResponseHeaders, StepResult } from '../pipeline/steps.js';
import { isPromise } from '../pipeline/steps.js';
import { jsonString } from '../../shared/json-string.js';
import type { CompiledEntry, CompiledPluginSet, PluginHost } from './plugin-host.js';
import { MAX_EXTENSION_DEPTH } from './plugin-host.js';
import { PluginRunRecord, PluginSessionImpl, type PluginRun } from './session.js';
import type { PluginStats } from '../observe/metrics.js';

export interface PluginFailure {
  (ctx: RequestContext, set: string, entry: CompiledEntry, err: unknown): void;
}

export interface EngineHooks {
  /** Logs a plugin that threw (named: type, set, position, route). */
  onError: PluginFailure;
  stats(type: string): PluginStats;
}

function session(ctx: RequestContext): PluginSessionImpl {
  return (ctx.session ??= new PluginSessionImpl(ctx));
}

/** A plugin reply; only failures (a given `error`, or status ≥ 400) count in the access log's `errors[]`. */
function toReply(r: PluginReply, type: string): Reply {
  // A reply below 400 without an error name (a preflight answer, a login redirect) is no rejection.
  const error = r.error || (r.status >= 400 ? `${type}Rejected` : undefined);
  return { status: r.status, ...(r.headers ? { headers: { ...r.headers } } : {}), ...(r.body !== undefined ? { body: r.body } : {}), ...(error ? { error } : {}) };
}

/** The response as response-stage plugins see it (they may change its status and headers). */
class PluginResponseImpl implements PluginResponse {
  constructor(
    public status: number,
    readonly headers: ResponseHeaders,
  ) {}
  setStatus(n: number): void {
    this.status = n;
  }
}

const failClosed = (key: string, why: string): Reply => ({ status: 500, body: `500 Internal Server Error: plugins ${key} ${why}\n`, error: 'PluginMissing' });

export class PluginRunner {
  constructor(
    private readonly host: PluginHost,
    private readonly hooks: EngineHooks,
  ) {}

  /** The step for `ExtensionRef` → EdgionPlugins `key` (resolved now, at compile time). */
  extensionRefStep(key: string): RequestStep {
    const set = this.host.get(key);
    return { name: `ExtensionRef(${key})`, run: (ctx) => this.runSet(ctx, key, set, 0) };
  }

  setFor(key: string): CompiledPluginSet | undefined {
    return this.host.get(key);
  }

  runSet(ctx: RequestContext, key: string, set: CompiledPluginSet | undefined, depth: number): StepResult | Promise<StepResult> {
    if (set === undefined) return failClosed(key, 'does not exist');
    if (!set.valid) return failClosed(key, `is not valid: ${set.error ?? 'rejected by the controller'}`);
    if (depth > MAX_EXTENSION_DEPTH) return failClosed(key, `nests ExtensionRefs deeper than ${MAX_EXTENSION_DEPTH}`);
    (ctx.pluginSets ??= []).push(set);
    return this.runFrom(ctx, set, 0, depth);
  }

  private runFrom(ctx: RequestContext, set: CompiledPluginSet, start: number, depth: number): StepResult | Promise<StepResult> {
    const entries = set.request;
    const s = session(ctx);
    s.mark = -1; // a new synchronous run: no earlier plugin's end to start from
    for (let i = start; i < entries.length; i++) {
      if (ctx.finished) return undefined;
      const r = this.runEntry(ctx, s, set, entries[i]!, depth);
      if (r === undefined) continue;
      if (isPromise<StepResult>(r)) {
        return r.then((v) => (v || ctx.finished ? v : this.runFrom(ctx, set, i + 1, depth)));
      }
      return r;
    }
    return undefined;
  }

  private runEntry(ctx: RequestContext, s: PluginSessionImpl, set: CompiledPluginSet, e: CompiledEntry, depth: number): StepResult | Promise<StepResult> {
    const run = new PluginRunRecord(set.key, e);
    (ctx.pluginRuns ??= []).push(run);
    if (e.conditions) {
      const skip = e.conditions.evaluate(s, Date.now());
      if (isPromise<string | undefined>(skip)) {
        s.mark = -1; // the plugin starts after the await: its clock starts then
        return skip.then((why) => (why ? ((run.skip = why), undefined) : this.invoke(ctx, s, set, e, run, depth)));
      }
      if (skip) {
        run.skip = skip;
        return undefined;
      }
    }
    return this.invoke(ctx, s, set, e, run, depth);
  }

  private invoke(ctx: RequestContext, s: PluginSessionImpl, set: CompiledPluginSet, e: CompiledEntry, run: PluginRun, depth: number): StepResult | Promise<StepResult> {
    if (e.nested !== undefined) {
      run.outcome = `refer_to:${e.nested}`;
      return this.runSet(ctx, e.nested, this.host.get(e.nested), depth + 1);
    }
    if (e.engineStep !== undefined) return e.engineStep.run(ctx);
    const stats = (e.stats ??= this.hooks.stats(e.type)); // one lookup per compiled entry, not per request
    // Plugins that run back to back share a clock reading: one's end is the next one's start.
    const t0 = s.mark >= 0 ? s.mark : performance.now();
    s.current = run;
    let r: RequestResult | Promise<RequestResult>;
    try {
      r = e.instance.onRequest?.(s);
    } catch (err) {
      s.current = undefined;
      s.mark = -1;
      run.us = Math.round((performance.now() - t0) * 1000);
      stats.record(run.us);
      return this.failed(ctx, set, e, run, err, stats);
    }
    const t1 = performance.now();
    run.us = Math.round((t1 - t0) * 1000);
    stats.record(run.us);
    if (r === undefined) {
      s.mark = t1;
      s.current = undefined;
      return undefined;
    }
    if (isPromise<RequestResult>(r)) {
      s.mark = -1; // what follows runs after the await
      // Plugins of one request run one at a time: log() lines written while this one awaits are its own.
      return r.then(
        (v) => {
          s.current = undefined;
          return this.decided(v, e, run, stats);
        },
        (err: unknown) => {
          s.current = undefined;
          return this.failed(ctx, set, e, run, err, stats);
        },
      );
    }
    s.mark = t1;
    s.current = undefined;
    return this.decided(r, e, run, stats);
  }

  private decided(v: RequestResult, e: CompiledEntry, run: PluginRun, stats: PluginStats): StepResult {
    if (!v) return undefined;
    run.outcome = String(v.status);
    if (v.status >= 400) stats.rejections++;
    return toReply(v, e.type);
  }

  private failed(ctx: RequestContext, set: CompiledPluginSet, e: CompiledEntry, run: PluginRun, err: unknown, stats: PluginStats): Reply {
    run.outcome = 'error';
    stats.errors++;
    this.hooks.onError(ctx, set.key, e, err);
    return { status: 500, body: `500 Internal Server Error: plugin ${e.type} (${set.key} ${e.where}) failed\n`, error: 'PluginError' };
  }

  /**
   * The sets an ExtensionRef entry of a response stage list refers to and that did not run in the
   * request stage (those run their own response stages anyway): they run that stage in place.
   * Missing or invalid targets, cycles and nesting deeper than the limit are skipped.
   */
  private responseTarget(ctx: RequestContext, e: CompiledEntry, depth: number, path: readonly string[]): CompiledPluginSet | undefined {
    const target = this.host.get(e.nested!);
    if (target === undefined || !target.valid || depth >= MAX_EXTENSION_DEPTH || path.includes(target.key) || ctx.pluginSets!.includes(target)) return undefined;
    return target;
  }

  /** upstreamResponseFilterPlugins of every set that ran, in order. Synchronous. */
  responseHeaders(ctx: RequestContext, status: number, headers: ResponseHeaders): number {
    const sets = ctx.pluginSets;
    if (sets === undefined) return status;
    let res: PluginResponseImpl | undefined;
    for (let i = 0; i < sets.length; i++) {
      const set = sets[i]!;
      if (set.responseFilter.length === 0) continue;
      const s = session(ctx);
      if (res === undefined) {
        res = new PluginResponseImpl(status, headers);
        s.mark = -1; // the first plugin reads the clock; the others start where the previous one ended
      }
      this.filterHeaders(ctx, s, res, set, 0, undefined);
    }
    return res === undefined ? status : res.status;
  }

  /** One set's upstreamResponseFilterPlugins; `path` (the sets entered, for cycles) is built only when an entry nests. */
  private filterHeaders(ctx: RequestContext, s: PluginSessionImpl, res: PluginResponseImpl, set: CompiledPluginSet, depth: number, path: readonly string[] | undefined): void {
    const list = set.responseFilter;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      if (e.conditions) {
        const skip = e.conditions.evaluate(s, Date.now());
        if (isPromise(skip) || skip) continue; // async conditions cannot gate a synchronous stage
      }
      if (e.nested !== undefined) {
        const entered = path ?? [set.key];
        const target = this.responseTarget(ctx, e, depth, entered);
        if (target) this.filterHeaders(ctx, s, res, target, depth + 1, [...entered, target.key]);
        continue;
      }
      const run = new PluginRunRecord(set.key, e);
      (ctx.pluginRuns ??= []).push(run);
      // Back to back, one plugin's end is the next one's start (as in the request stage).
      const t0 = s.mark >= 0 ? s.mark : performance.now();
      s.current = run;
      try {
        e.instance.onResponseHeaders?.(s, res);
      } catch (err) {
        run.outcome = 'error';
        this.hooks.onError(ctx, set.key, e, err);
      }
      const t1 = performance.now();
      run.us = Math.round((t1 - t0) * 1000);
      s.mark = t1;
      s.current = undefined;
    }
  }

  /** upstreamResponsePlugins (async) of every set that ran; undefined when there are none. */
  response(ctx: RequestContext, status: number, headers: ResponseHeaders): Promise<number> | undefined {
    const sets = ctx.pluginSets;
    if (sets === undefined || !sets.some(hasResponseStage)) return undefined;
    return (async () => {
      const s = session(ctx);
      const res = new PluginResponseImpl(status, headers);
      const runList = async (set: CompiledPluginSet, depth: number, path: readonly string[]): Promise<void> => {
        for (const e of set.response) {
          if (e.conditions && (await e.conditions.evaluate(s, Date.now()))) continue;
          if (e.nested !== undefined) {
            const target = this.responseTarget(ctx, e, depth, path);
            if (target) await runList(target, depth + 1, [...path, target.key]);
            continue;
          }
          const run = new PluginRunRecord(set.key, e);
          (ctx.pluginRuns ??= []).push(run);
          const t0 = performance.now();
          try {
            await e.instance.onResponse?.(s, res);
          } catch (err) {
            run.outcome = 'error';
            this.hooks.onError(ctx, set.key, e, err);
          }
          run.us = Math.round((performance.now() - t0) * 1000);
        }
      };
      for (const set of sets) await runList(set, 0, [set.key]);
      return res.status;
    })();
  }

  /**
   * Body filters of every set that ran, in order, ExtensionRefs expanded: response filters that
   * also rewrite the body (ResponseRewrite's body extension) first, then upstreamResponseBodyFilterPlugins.
   */
  bodyFilters(ctx: RequestContext): CompiledEntry[] | undefined {
    const sets = ctx.pluginSets;
    if (sets === undefined) return undefined;
    // The usual case, one set without ExtensionRefs in its response stages: the same list every time.
    if (sets.length === 1) {
      const own = ownBodyFilters(sets[0]!);
      if (own !== 'nested') return own ?? undefined;
    }
    let out: CompiledEntry[] | undefined;
    // Response filters with onBodyChunk, also those reached through an ExtensionRef in that list.
    const collectFilters = (set: CompiledPluginSet, depth: number, path: readonly string[]): void => {
      for (const e of set.responseFilter) {
        if (e.nested === undefined) {
          if (e.instance.onBodyChunk !== undefined) (out ??= []).push(e);
        } else {
          const target = this.responseTarget(ctx, e, depth, path);
          if (target) collectFilters(target, depth + 1, [...path, target.key]);
        }
      }
    };
    const collect = (set: CompiledPluginSet, depth: number, path: readonly string[]): void => {
      collectFilters(set, depth, path);
      for (const e of set.body) {
        if (e.nested === undefined) (out ??= []).push(e);
        else {
          const target = this.responseTarget(ctx, e, depth, path);
          if (target) collect(target, depth + 1, [...path, target.key]);
        }
      }
    };
    for (const set of sets) collect(set, 0, [set.key]);
    return out;
  }

  /**
   * Runs a response body chunk through the filters from `from` on, in order, and hands what comes
   * out to `emit` (awaited: backpressure). A filter may delay the chunk, hold it back, or yield it
   * in pieces (BandwidthLimit): each piece runs through the filters after it and is emitted at once.
   */
  async filterBody(ctx: RequestContext, filters: CompiledEntry[], chunk: Buffer, last: boolean, emit: (out: Buffer) => Promise<void> | void, from = 0): Promise<void> {
    const s = session(ctx);
    let data = chunk;
    for (let i = from; i < filters.length; i++) {
      const e = filters[i]!;
      if (!e.instance.onBodyChunk) continue;
      try {
        const r = e.instance.onBodyChunk(s, data, last);
        if (typeof (r as AsyncIterable<Buffer>)[Symbol.asyncIterator] === 'function') {
          for await (const piece of r as AsyncIterable<Buffer>) {
            if (ctx.finished) return;
            await this.filterBody(ctx, filters, piece, false, emit, i + 1);
          }
          if (last) await this.filterBody(ctx, filters, Buffer.alloc(0), true, emit, i + 1);
          return;
        }
        data = await (r as Buffer | Promise<Buffer>);
      } catch (err) {
        this.hooks.onError(ctx, 'body filter', e, err);
      }
    }
    if (data.length) await emit(data);
  }

  /** Log stage: plugins add access-log fields. */
  logFields(ctx: RequestContext): Record<string, unknown> | undefined {
    const sets = ctx.pluginSets;
    if (sets === undefined) return undefined;
    let fields: Record<string, unknown> | undefined;
    for (const set of sets) {
      const loggers = logEntries(set);
      if (loggers.length === 0) continue;
      const s = session(ctx);
      for (const e of loggers) {
        try {
          e.instance.onLog!(s, (fields ??= {}));
        } catch {
          // logging must never fail a request
        }
      }
    }
    return fields;
  }
}

const hasResponseStage = (set: CompiledPluginSet): boolean => set.response.length !== 0;

const ownFilters = new WeakMap<CompiledPluginSet, CompiledEntry[] | null | 'nested'>();
/**
 * Body filters of a set, found once: response filters with onBodyChunk, then body plugins (null
 * when none). 'nested' when an entry of those stages is an ExtensionRef: the list then depends on
 * the sets the request ran, and is collected per request.
 */
function ownBodyFilters(set: CompiledPluginSet): CompiledEntry[] | null | 'nested' {
  let list = ownFilters.get(set);
  if (list === undefined) {
    if ([set.responseFilter, set.body].some((l) => l.some((e) => e.nested !== undefined))) list = 'nested';
    else {
      const found = [...set.responseFilter.filter((e) => e.instance.onBodyChunk !== undefined), ...set.body];
      list = found.length ? found : null;
    }
    ownFilters.set(set, list);
  }
  return list;
}

/** The entries of a set that add access-log fields (most sets have none), found once per set. */
const loggersOf = new WeakMap<CompiledPluginSet, CompiledEntry[]>();
function logEntries(set: CompiledPluginSet): CompiledEntry[] {
  let list = loggersOf.get(set);
  if (list === undefined) {
    list = [set.request, set.responseFilter, set.response, set.body].flatMap((l) => l.filter((e) => e.instance.onLog !== undefined));
    loggersOf.set(set, list);
  }
  return list;
}

const STAGE_NAMES: Record<string, string> = {
  requestPlugins: 'request_filters',
  upstreamResponseFilterPlugins: 'upstream_response_filters',
  upstreamResponsePlugins: 'upstream_responses',
  upstreamResponseBodyFilterPlugins: 'upstream_response_body_filters',
};
/** `where` ("requestPlugins[2]") → the stage's name in the log (cached per entry by runStage). */
function stageName(where: string): string {
  const i = where.indexOf('[');
  return STAGE_NAMES[i === -1 ? where : where.slice(0, i)] ?? where;
}

/**
 * The access log's `stage_logs` (operations.md §5.1) as JSON: plugin runs grouped by stage, then
 * by plugin set, in the order they first ran. Built as a string: it is on every plugin request's
 * log line, and objects + JSON.stringify cost more than the plugins themselves. The text around
 * each run's timing and details is the same for every request that ran the same entries, so it is
 * kept on the first entry and only the timings (and skip/log/outcome) are filled in.
 */
export function stageLogsJson(runs: readonly PluginRun[] | undefined): string | undefined {
  if (!runs || runs.length === 0) return undefined;
  const first = runs[0]!.entry;
  let shape: LogShape;
  if (first !== undefined && everyRunHasEntry(runs)) {
    const cached = first.logShape;
    shape = cached !== undefined && sameEntries(cached, runs) ? cached : (first.logShape = logShape(runs));
  } else shape = logShape(runs);
  const { parts, order } = shape;
  let out = parts[0]!;
  for (let i = 0; i < order.length; i++) {
    const r = runs[order[i]!]!;
    out += r.us;
    if (r.skip) out += `,"cond_skip":${jsonString(r.skip)}`;
    if (r.log) out += `,"log":${jsonList(r.log)}`;
    if (r.outcome) out += `,"outcome":${jsonString(r.outcome)}`;
    out += parts[i + 1]!;
  }
  return out;
}

function jsonList(items: readonly string[]): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) out += (i ? ',' : '') + jsonString(items[i]!);
  return out + ']';
}

/** `stage_logs` as text `parts` around each run's timing and details, runs taken in `order`. */
export interface LogShape {
  entries: unknown[];
  parts: string[];
  order: number[];
}

function everyRunHasEntry(runs: readonly PluginRun[]): boolean {
  for (let i = 0; i < runs.length; i++) if (runs[i]!.entry === undefined) return false;
  return true;
}

function sameEntries(shape: LogShape, runs: readonly PluginRun[]): boolean {
  const e = shape.entries;
  if (e.length !== runs.length) return false;
  for (let i = 0; i < runs.length; i++) if (e[i] !== runs[i]!.entry) return false;
  return true;
}

function logShape(runs: readonly PluginRun[]): LogShape {
  const n = runs.length;
  const stageOfRun = runs.map(runStage);
  const stages: string[] = [];
  for (const st of stageOfRun) if (!stages.includes(st)) stages.push(st);
  const parts: string[] = [];
  const order: number[] = [];
  let out = '[';
  for (let si = 0; si < stages.length; si++) {
    const st = stages[si]!;
    const sets: string[] = [];
    for (let i = 0; i < n; i++) if (stageOfRun[i] === st && !sets.includes(runs[i]!.set)) sets.push(runs[i]!.set);
    out += `${si ? ',' : ''}{"stage":"${st}","edgion_plugins":[`;
    for (let k = 0; k < sets.length; k++) {
      const set = sets[k]!;
      out += `${k ? ',' : ''}{"name":${jsonString(set)},"logs":[`;
      let firstLog = true;
      for (let i = 0; i < n; i++) {
        const r = runs[i]!;
        if (r.set !== set || stageOfRun[i] !== st) continue;
        parts.push(out + (firstLog ? '' : ',') + runPrefix(r));
        order.push(i);
        out = '}';
        firstLog = false;
      }
      out += ']}';
    }
    out += ']}';
  }
  parts.push(out + ']');
  return { entries: runs.map((r) => r.entry), parts, order };
}

function runStage(r: PluginRun): string {
  const e = r.entry;
  if (e === undefined) return stageName(r.where);
  return (e.logStage ??= stageName(r.where));
}

/** `{"name":"KeyAuth","time_cost":` — the same for every run of an entry. */
function runPrefix(r: PluginRun): string {
  const make = () => `{"name":${jsonString(r.type)},"time_cost":`;
  const e = r.entry;
  if (e === undefined) return make();
  return (e.logPrefix ??= make());
}

