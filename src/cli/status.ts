// `edgion-ctl status`: one look at both admin APIs, summarised for a human, with an
// exit code a script can use (0 ready, 1 not ready / rejected with --strict, 3 unreachable).

import type { ControllerApi, GatewayApi } from './admin-client.js';
import type { ControllerStatus, GatewayStatus } from './admin-types.js';
import { formatDuration } from './age.js';
import { CliError, cliError } from './errors.js';
import type { Output } from './output.js';
import { poll } from './wait.js';

export interface ErrorInfo {
  code: string;
  message: string;
}

export interface RejectedResource {
  kind: string;
  namespace: string | null;
  name: string;
  reasons: string[];
}

/** The `--json` result of `status`. */
export interface StatusReport {
  /** Controller reachable and gateway ready. */
  ready: boolean;
  controller: { url: string; reachable: boolean; error: ErrorInfo | null; status: ControllerStatus | null };
  gateway: { url: string; reachable: boolean; ready: boolean; error: ErrorInfo | null; status: GatewayStatus | null };
  config: { controllerVersion: number | null; gatewayVersion: number | null; inSync: boolean };
  rejected: RejectedResource[];
}

interface Probe<T> {
  value: T | null;
  error: CliError | null;
}

async function probe<T>(call: () => Promise<T>): Promise<Probe<T>> {
  try {
    return { value: await call(), error: null };
  } catch (err) {
    if (err instanceof CliError) return { value: null, error: err };
    throw err;
  }
}

export async function collectStatus(controller: ControllerApi, gateway: GatewayApi): Promise<StatusReport> {
  const [c, g] = await Promise.all([probe(() => controller.status()), probe(() => gateway.status())]);
  const gatewayReady = g.value ? (typeof g.value.ready === 'boolean' ? g.value.ready : await gateway.ready().catch(() => false)) : false;
  const controllerVersion = num(c.value?.snapshot?.version);
  const gatewayVersion = num(g.value?.config?.version);
  return {
    ready: c.value !== null && gatewayReady,
    controller: {
      url: controller.target.url,
      reachable: c.error === null || c.error.exitCode !== 3,
      error: c.error && { code: c.error.code, message: c.error.message },
      status: c.value,
    },
    gateway: {
      url: gateway.target.url,
      reachable: g.error === null || g.error.exitCode !== 3,
      ready: gatewayReady,
      error: g.error && { code: g.error.code, message: g.error.message },
      status: g.value,
    },
    config: {
      controllerVersion,
      gatewayVersion,
      inSync: controllerVersion !== null && controllerVersion === gatewayVersion,
    },
    rejected: (c.value?.resources?.rejected ?? []).map((r) => ({
      kind: r.kind,
      namespace: r.namespace ?? null,
      name: r.name,
      reasons: r.reasons ?? [],
    })),
  };
}

/** The error the report amounts to, or null when all is well. */
export function assessStatus(report: StatusReport, strict: boolean, hints: { controller: string; gateway: string }): CliError | null {
  const partialResult = { ...report } as unknown as Record<string, unknown>;
  for (const name of ['controller', 'gateway'] as const) {
    const part = report[name];
    if (part.error) {
      const which = part.reachable ? 'adminApi' : 'unreachable';
      return cliError(which, part.error.message, { code: part.error.code, hint: part.reachable ? undefined : hints[name], partialResult });
    }
  }
  if (!report.gateway.ready) {
    return cliError('notReady', `the gateway is not ready${gatewayNotReadyReason(report.gateway.status)}`, { partialResult });
  }
  if (strict && report.rejected.length > 0) {
    return cliError('invalid', `${report.rejected.length} resource(s) rejected`, { details: report.rejected, partialResult });
  }
  return null;
}

function gatewayNotReadyReason(status: GatewayStatus | null): string {
  if (!status) return '';
  if (status.controller && status.controller.connected === false) return ` (not connected to the controller at ${status.controller.address ?? '?'})`;
  if (status.config?.version === undefined) return ' (no configuration received yet)';
  const unbound = (status.listeners ?? []).filter((l) => l.bound === false);
  if (unbound.length > 0) return ` (${unbound.length} listener(s) not bound)`;
  return '';
}

export interface WaitOptions {
  timeoutSeconds: number;
  out: Output;
}

/** Polls until the controller answers and the gateway is ready; returns the last report. */
export async function waitForReady(controller: ControllerApi, gateway: GatewayApi, options: WaitOptions): Promise<StatusReport> {
  let last: StatusReport | undefined;
  await poll(
    async () => {
      last = await collectStatus(controller, gateway);
      return last.ready ? { done: true, value: last } : { done: false, reason: waitingReason(last) };
    },
    {
      timeoutMs: options.timeoutSeconds * 1000,
      intervalMs: 300,
      onProgress: (s, reason) => options.out.note(`waiting for ${reason} (${s}s)...`),
    },
  );
  return last!;
}

function waitingReason(report: StatusReport): string {
  if (!report.controller.status) return 'the controller';
  if (!report.gateway.status) return 'the gateway';
  return 'gateway to be ready';
}

export function renderStatus(report: StatusReport, now: Date = new Date()): string[] {
  const rows: Array<[string, string]> = [];
  const c = report.controller;
  const cs = c.status?.controller;
  rows.push([
    'Controller',
    c.status
      ? join(c.url, pid(cs?.pid), version(cs?.version), uptime(cs?.startedAt, now), cs?.mode, cs?.confDir && `conf ${cs.confDir}`)
      : join(c.url, c.reachable ? `error: ${c.error?.message}` : 'UNREACHABLE'),
  ]);
  const g = report.gateway;
  const gs = g.status?.gateway;
  rows.push([
    'Gateway',
    g.status
      ? join(g.url, pid(gs?.pid), version(gs?.version), uptime(gs?.startedAt, now), g.ready ? 'ready' : 'NOT READY', gs?.workers && `${gs.workers} worker(s)`)
      : join(g.url, g.reachable ? `error: ${g.error?.message}` : 'UNREACHABLE'),
  ]);
  if (g.status?.controller) {
    rows.push(['Sync', `${g.status.controller.connected ? 'connected to' : 'NOT connected to'} controller ${g.status.controller.address ?? ''}`.trim()]);
  }
  const cv = report.config.controllerVersion;
  const gv = report.config.gatewayVersion;
  if (cv !== null || gv !== null) {
    const sync = report.config.inSync ? 'in sync' : 'not in sync yet';
    rows.push(['Config', `controller v${cv ?? '-'}, gateway v${gv ?? '-'} (${sync})`]);
  }
  const gateways = c.status?.gateways ?? [];
  if (c.status) {
    rows.push([
      'Gateways',
      gateways.length === 0
        ? 'none connected to the controller'
        : `${gateways.length} connected: ` +
          gateways.map((x) => join(x.name ?? x.id ?? '?', pid(x.pid), x.ackedVersion !== undefined && `acked v${x.ackedVersion}`)).join('; '),
    ]);
  }
  const listeners = g.status?.listeners ?? [];
  listeners.forEach((l, i) => {
    const state = l.bound ? 'bound' : `NOT BOUND${l.error ? `: ${l.error}` : ''}`;
    rows.push([i === 0 ? 'Listeners' : '', join(`${l.address ?? '*'}:${l.port ?? '?'}`, l.protocol, (l.gateways ?? []).join(','), state)]);
  });
  if (g.status && listeners.length === 0) rows.push(['Listeners', 'none']);
  const resources = c.status?.resources;
  if (resources) {
    const byKind = Object.entries(resources.byKind ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ');
    rows.push(['Resources', `${resources.total ?? 0} total${byKind ? `: ${byKind}` : ''}`]);
  }
  report.rejected.forEach((r, i) => {
    const ref = r.namespace ? `${r.kind} ${r.namespace}/${r.name}` : `${r.kind} ${r.name}`;
    rows.push([i === 0 ? 'Rejected' : '', `${ref}: ${r.reasons.join('; ') || 'no reason given'}`]);
  });
  const requests = g.status?.requests;
  if (requests) rows.push(['Requests', `${requests.total ?? 0} total, ${requests.inFlight ?? 0} in flight`]);
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${label.padEnd(width)}${value}`.trimEnd());
}

function join(...parts: Array<string | number | false | null | undefined>): string {
  return parts.filter((p) => p !== undefined && p !== null && p !== false && p !== '').join('   ');
}

function pid(value: number | undefined): string | undefined {
  return value === undefined ? undefined : `pid ${value}`;
}

function version(value: string | undefined): string | undefined {
  return value ? `v${value.replace(/^v/, '')}` : undefined;
}

function uptime(startedAt: string | undefined, now: Date): string | undefined {
  const t = startedAt ? Date.parse(startedAt) : NaN;
  return Number.isNaN(t) ? undefined : `up ${formatDuration(Math.max(0, now.getTime() - t))}`;
}

function num(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}
