// Redis clients for plugins, built from a LinkSys `type: redis` config (resources.md §14): one
// client per LinkSys (and config) per worker process, shared by every plugin instance that uses
// it and closed when the last of them is retired. Commands fail fast while Redis is unreachable
// (no offline queue, no per-command retries) so callers can apply their failure policy at once.
import { Redis, Cluster, type RedisOptions, type ClusterNode } from 'ioredis';
import { createHash } from 'node:crypto';

export type RedisClient = Redis | Cluster;

export interface RedisLinkConfig {
  endpoints?: string[];
  db?: number;
  auth?: { username?: string; password?: string };
  timeout?: { connect?: number; read?: number; write?: number };
  tls?: { enabled?: boolean; insecureSkipVerify?: boolean; certs?: { caCert?: string; clientCert?: string; clientKey?: string } };
  topology?: {
    mode?: 'standalone' | 'sentinel' | 'cluster';
    sentinel?: { masterName?: string; sentinels?: string[]; password?: string };
    cluster?: { readFromReplicas?: boolean; maxRedirects?: number };
  };
  retry?: { maxRetries?: number; backoff?: { initialDelay?: number; maxDelay?: number; multiplier?: number } };
}

interface Shared {
  client: RedisClient;
  refs: number;
}

const clients = new Map<string, Shared>();

/** Milliseconds a command may take before it counts as a failure (LinkSys timeout.read). */
export function commandTimeoutOf(cfg: RedisLinkConfig): number {
  return Math.max(1, Math.floor(Number(cfg.timeout?.read ?? 500)));
}

function parseEndpoint(e: string): { host: string; port: number; tls: boolean; username?: string; password?: string; db?: number } {
  const withScheme = /^[a-z]+:\/\//i.test(e) ? e : `redis://${e}`;
  const u = new URL(withScheme);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    tls: u.protocol === 'rediss:',
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
  };
}

/** Problems with a LinkSys redis config (for error messages); empty when usable. */
export function redisConfigProblems(cfg: RedisLinkConfig): string[] {
  const out: string[] = [];
  const mode = cfg.topology?.mode ?? 'standalone';
  if (mode === 'sentinel') {
    if (!cfg.topology?.sentinel?.masterName) out.push('topology.sentinel.masterName is required in sentinel mode');
    if (!(cfg.topology?.sentinel?.sentinels?.length || cfg.endpoints?.length)) out.push('sentinel mode needs topology.sentinel.sentinels or endpoints');
  } else if (!cfg.endpoints?.length) out.push('endpoints is empty');
  for (const e of cfg.endpoints ?? []) {
    try {
      parseEndpoint(e);
    } catch {
      out.push(`endpoint "${e}" is not a redis:// URL or host:port`);
    }
  }
  return out;
}

function build(cfg: RedisLinkConfig): RedisClient {
  const first = parseEndpoint(cfg.endpoints?.[0] ?? '127.0.0.1:6379');
  const tlsOn = cfg.tls?.enabled === true || first.tls;
  const c = cfg.tls?.certs;
  const tls = tlsOn
    ? {
        ...(c?.caCert ? { ca: c.caCert } : {}),
        ...(c?.clientCert ? { cert: c.clientCert } : {}),
        ...(c?.clientKey ? { key: c.clientKey } : {}),
        rejectUnauthorized: cfg.tls?.insecureSkipVerify !== true,
      }
    : undefined;
  const b = cfg.retry?.backoff;
  const initial = b?.initialDelay ?? 100;
  const maxDelay = b?.maxDelay ?? 2000;
  const mult = b?.multiplier ?? 2;
  const common: RedisOptions = {
    connectTimeout: cfg.timeout?.connect ?? 1000,
    commandTimeout: commandTimeoutOf(cfg),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Keep reconnecting in the background (with backoff) so the limiter comes back with Redis.
    retryStrategy: (times: number) => Math.min(maxDelay, Math.round(initial * mult ** Math.min(times - 1, 20))),
    ...(cfg.auth?.username ?? first.username ? { username: cfg.auth?.username ?? first.username } : {}),
    ...(cfg.auth?.password ?? first.password ? { password: cfg.auth?.password ?? first.password } : {}),
    ...(tls ? { tls } : {}),
  };
  const mode = cfg.topology?.mode ?? 'standalone';
  if (mode === 'cluster') {
    const nodes: ClusterNode[] = (cfg.endpoints ?? []).map((e) => {
      const p = parseEndpoint(e);
      return { host: p.host, port: p.port };
    });
    return new Cluster(nodes, {
      enableOfflineQueue: false,
      maxRedirections: cfg.topology?.cluster?.maxRedirects ?? 16,
      scaleReads: cfg.topology?.cluster?.readFromReplicas ? 'all' : 'master',
      clusterRetryStrategy: (times: number) => Math.min(maxDelay, initial * times),
      redisOptions: common,
    });
  }
  if (mode === 'sentinel') {
    const s = cfg.topology?.sentinel ?? {};
    const sentinels = (s.sentinels?.length ? s.sentinels : (cfg.endpoints ?? [])).map((e) => {
      const p = parseEndpoint(e);
      return { host: p.host, port: p.port };
    });
    return new Redis({ ...common, sentinels, name: s.masterName ?? 'mymaster', ...(s.password ? { sentinelPassword: s.password } : {}), db: cfg.db ?? 0 });
  }
  return new Redis({ ...common, host: first.host, port: first.port, db: cfg.db ?? first.db ?? 0 });
}

/** A shared client for `linkSysKey`; `release()` closes it when no plugin instance uses it any more. */
export function acquireRedis(linkSysKey: string, cfg: RedisLinkConfig, onError: (err: Error) => void): { client: RedisClient; release: () => void } {
  const id = `${linkSysKey}|${createHash('sha1').update(JSON.stringify(cfg)).digest('hex')}`;
  let s = clients.get(id);
  if (s === undefined) {
    const client = build(cfg);
    let lastLog = 0;
    client.on('error', (err: Error) => {
      // Reconnect attempts fail repeatedly while Redis is down: log at most every 10 s.
      const now = Date.now();
      if (now - lastLog < 10_000) return;
      lastLog = now;
      onError(err);
    });
    s = { client, refs: 0 };
    clients.set(id, s);
  }
  s.refs++;
  const shared = s;
  let released = false;
  return {
    client: shared.client,
    release: () => {
      if (released) return;
      released = true;
      shared.refs--;
      if (shared.refs > 0) return;
      clients.delete(id);
      shared.client.quit().catch(() => shared.client.disconnect());
    },
  };
}

/** Number of open shared clients (tests). */
export function openRedisClients(): number {
  return clients.size;
}
