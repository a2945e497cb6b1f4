// The `webhook` key source (plugins.md §3.3): calls the LinkSys webhook a key names and extracts a
// value from its answer (header, Set-Cookie, JSON body path, whole body). Any failure — LinkSys
// missing or not a webhook, unhealthy, rate limited, timeout, connection error, a status that is
// not a success, an answer over maxResponseBytes, a missing field — makes the key missing; the
// consuming plugin applies its own "missing key" policy.
//
// One client per LinkSys (created at first use, replaced when its config changes): an undici
// Agent (keep-alive, TLS options), retries with exponential backoff and jitter, a call rate limit
// on the gateway-wide counters, passive ejection after consecutive failures with growing backoff,
// and an optional active health probe. One request calls a given webhook at most once: the answer
// is shared by every condition and plugin of that request that reads it.

import { Agent, request, type Dispatcher } from 'undici';
import type { LinkSysIR } from '../../ir/index.js';
import type { Logger } from '../../shared/logger.js';
import { jsonPath } from '../../shared/json-path.js';
import type { PluginSession, SharedCounters } from '../../plugins/runtime/define-plugin.js';
import type { KeyGet, WebhookResolver } from '../../plugins/runtime/key-get.js';
import { normalizeWebhookConfig, type WebhookConfig } from '../../plugins/runtime/webhook-config.js';

export interface WebhookAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** undefined when the body was larger than maxResponseBytes. */
  body: Buffer | undefined;
}

type Outcome = { ok: true; answer: WebhookAnswer } | { ok: false; why: string; kind: 'timeout' | 'connect' | 'status' | 'other'; status?: number };

/** Headers never copied from the client's request to the webhook call. */
const NOT_COPIED = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-connection', 'expect']);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** The nth retry's delay: exponential from retryDelayMs, capped at 30 s, with jitter (50–100 %). */
export function retryDelay(base: number, attempt: number, random = Math.random): number {
  const d = Math.min(30_000, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(d * (0.5 + random() * 0.5));
}

function classify(err: unknown): { kind: 'timeout' | 'connect' | 'other'; why: string } {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return { kind: 'timeout', why: 'timeout' };
  if (['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'EPIPE'].includes(code) || code.startsWith('ERR_TLS') || code.includes('CERT')) {
    return { kind: 'connect', why: `connection error ${code}` };
  }
  return { kind: 'other', why: e.message ?? String(err) };
}

/** DECISIONS §27: strings as they are, numbers and booleans as JSON text, arrays joined by `,`, objects as JSON. */
function render(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(',');
  return JSON.stringify(v);
}


/** The value `extract` names in a webhook answer; undefined when missing or empty. */
export function extractValue(answer: WebhookAnswer, extract: KeyGet['extract']): string | undefined {
  if (!extract) return undefined;
  let v: string | undefined;
  switch (extract.source) {
    case 'header': {
      const h = answer.headers[(extract.name ?? '').toLowerCase()];
      v = Array.isArray(h) ? h.join(', ') : h;
      break;
    }
    case 'cookie': {
      const raw = answer.headers['set-cookie'];
      for (const line of Array.isArray(raw) ? raw : raw ? [raw] : []) {
        const pair = line.split(';', 1)[0]!;
        const eq = pair.indexOf('=');
        if (eq !== -1 && pair.slice(0, eq).trim() === extract.name) {
          const val = pair.slice(eq + 1).trim();
          v = val.length >= 2 && val.startsWith('"') && val.endsWith('"') ? val.slice(1, -1) : val;
          break;
        }
      }
      break;
    }
    case 'body': {
      if (!answer.body) return undefined;
      try {
        v = render(jsonPath(JSON.parse(answer.body.toString('utf8')), extract.path ?? ''));
      } catch {
        return undefined;
      }
      break;
    }
    case 'bodyText':
      v = answer.body?.toString('utf8');
      break;
  }
  return v === '' ? undefined : v;
}

export class WebhookClient {
  private readonly dispatcher: Agent;
  private readonly url: URL;
  // passive health
  private failures = 0;
  private ejections = 0;
  private ejectedUntil = 0;
  // active health
  private activeHealthy = true;
  private activeOk = 0;
  private activeFail = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly ref: string,
    readonly cfg: WebhookConfig,
    private readonly counters: SharedCounters,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.url = new URL(cfg.uri);
    if (cfg.tls.enabled && this.url.protocol === 'http:') this.url.protocol = 'https:';
    const tls = cfg.tls;
    this.dispatcher = new Agent({
      connect: {
        timeout: cfg.timeoutMs,
        rejectUnauthorized: !tls.insecureSkipVerify,
        ...(tls.caCert ? { ca: tls.caCert } : {}),
        ...(tls.clientCert ? { cert: tls.clientCert } : {}),
        ...(tls.clientKey ? { key: tls.clientKey } : {}),
      },
      keepAliveTimeout: 30_000,
    });
    if (cfg.active) {
      const a = cfg.active;
      const probe = () => void this.probe();
      probe();
      this.timer = setInterval(probe, a.intervalSec * 1000);
      this.timer.unref();
    }
  }

  /** Why the webhook may not be called now, or undefined. */
  private unavailable(): string | undefined {
    if (!this.activeHealthy) return 'unhealthy (active health check)';
    if (this.ejectedUntil > this.now()) return 'unhealthy (passive health check)';
    return undefined;
  }

  /** Calls the webhook for this request (with retries); undefined on any failure. */
  async call(s: PluginSession): Promise<{ answer?: WebhookAnswer; why?: string }> {
    const headers: Record<string, string> = {};
    for (const name of this.cfg.requestHeaders) {
      if (NOT_COPIED.has(name)) continue;
      const v = s.header(name);
      if (v !== undefined) headers[name] = v;
    }
    headers['x-forwarded-for'] = s.clientIp;
    headers['x-forwarded-method'] = s.method;
    headers['x-forwarded-uri'] = s.queryString ? `${s.path}?${s.queryString}` : s.path;
    headers['x-forwarded-host'] = s.host;
    const r = this.cfg.retry;
    let last = 'not called';
    for (let attempt = 0; attempt <= r.maxRetries; attempt++) {
      if (attempt > 0) await sleep(retryDelay(r.retryDelayMs, attempt));
      if (this.closed) return { why: 'LinkSys changed' };
      const down = this.unavailable();
      if (down) return { why: down };
      if (this.cfg.rateLimit) {
        const rl = this.cfg.rateLimit;
        const taken = await this.counters.take(`webhook|${this.ref}`, 1, rl.rate, rl.windowSec * 1000);
        if (!taken.allowed) return { why: `rate limited (${rl.rate} per ${rl.windowSec}s)` };
      }
      const out = await this.once(headers);
      this.passive(out);
      if (out.ok) return { answer: out.answer };
      last = out.why;
      const retry = (out.kind === 'timeout' && r.retryOnTimeout) || (out.kind === 'connect' && r.retryOnConnectError) || (out.kind === 'status' && out.status !== undefined && r.retryOnStatus.includes(out.status));
      if (!retry) break;
    }
    return { why: last };
  }

  private async once(headers: Record<string, string>): Promise<Outcome> {
    const cfg = this.cfg;
    let res: Dispatcher.ResponseData;
    const signal = AbortSignal.timeout(cfg.timeoutMs);
    try {
      res = await request(this.url, { method: cfg.requestMethod as Dispatcher.HttpMethod, headers, dispatcher: this.dispatcher, signal, headersTimeout: cfg.timeoutMs, bodyTimeout: cfg.timeoutMs });
    } catch (err) {
      return { ok: false, ...classify(err) };
    }
    const success = cfg.successStatusCodes.length ? cfg.successStatusCodes.includes(res.statusCode) : res.statusCode >= 200 && res.statusCode < 300;
    if (!success) {
      res.body.resume();
      res.body.on('error', () => {});
      return { ok: false, kind: 'status', status: res.statusCode, why: `status ${res.statusCode}` };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    try {
      for await (const c of res.body as AsyncIterable<Buffer>) {
        size += c.length;
        if (size > cfg.maxResponseBytes) {
          tooBig = true;
          res.body.destroy();
          break;
        }
        chunks.push(c);
      }
    } catch (err) {
      if (!tooBig) return { ok: false, ...classify(err) };
    }
    return { ok: true, answer: { status: res.statusCode, headers: res.headers as WebhookAnswer['headers'], body: tooBig ? undefined : Buffer.concat(chunks) } };
  }

  private passive(out: Outcome): void {
    const p = this.cfg.passive;
    if (!p) return;
    const failed = !out.ok && (out.kind === 'connect' || (out.kind === 'timeout' && p.countTimeout) || (out.kind === 'status' && p.failureStatusCodes.includes(out.status ?? 0)));
    if (!failed) {
      if (out.ok && this.ejections > 0) this.logger.info({ linkSys: this.ref }, `webhook LinkSys ${this.ref} is healthy again`);
      if (out.ok) {
        this.failures = 0;
        this.ejections = 0;
      }
      return;
    }
    this.failures++;
    if (this.failures >= p.unhealthyThreshold) {
      const b = p.backoff;
      const sec = Math.min(b.maxSec, b.initialSec * b.multiplier ** this.ejections);
      this.ejections++;
      this.ejectedUntil = this.now() + sec * 1000;
      this.logger.warn({ linkSys: this.ref, failures: this.failures, backoffSec: sec }, `webhook LinkSys ${this.ref} is unhealthy after ${this.failures} failures; not called for ${sec}s`);
    }
  }

  private async probe(): Promise<void> {
    const a = this.cfg.active!;
    let ok = false;
    try {
      const res = await request(new URL(a.path, this.url), { method: 'GET', dispatcher: this.dispatcher, signal: AbortSignal.timeout(a.timeoutMs), headersTimeout: a.timeoutMs, bodyTimeout: a.timeoutMs });
      res.body.resume();
      res.body.on('error', () => {});
      ok = res.statusCode >= 200 && res.statusCode < 400;
    } catch {
      ok = false;
    }
    if (this.closed) return;
    if (ok) {
      this.activeFail = 0;
      if (++this.activeOk >= a.healthyThreshold && !this.activeHealthy) {
        this.activeHealthy = true;
        this.logger.info({ linkSys: this.ref }, `webhook LinkSys ${this.ref} passes its health check again`);
      }
    } else {
      this.activeOk = 0;
      if (++this.activeFail >= a.unhealthyThreshold && this.activeHealthy) {
        this.activeHealthy = false;
        this.logger.warn({ linkSys: this.ref }, `webhook LinkSys ${this.ref} fails its health check (${this.activeFail} in a row); keys from it are missing until it recovers`);
      }
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    void this.dispatcher.close().catch(() => {});
  }
}

/** Every webhook LinkSys of the current snapshot, and the resolver plugins and conditions use. */
export class WebhookKeys {
  private linkSys: Record<string, LinkSysIR> = {};
  private clients = new Map<string, { json: string; client: WebhookClient }>();
  /** Per request: LinkSys → the (single) call's answer. */
  private perRequest = new WeakMap<PluginSession, Map<string, Promise<{ answer?: WebhookAnswer; why?: string }>>>();

  constructor(
    private readonly counters: SharedCounters,
    private readonly logger: Logger,
  ) {}

  /** A new snapshot: clients whose LinkSys changed or disappeared are closed. */
  update(linkSys: Record<string, LinkSysIR>): void {
    this.linkSys = linkSys;
    for (const [ref, c] of this.clients) {
      const l = linkSys[ref];
      if (!l || l.type !== 'webhook' || JSON.stringify(l.config) !== c.json) {
        c.client.close();
        this.clients.delete(ref);
      }
    }
  }

  private client(ref: string): WebhookClient | string {
    const cur = this.clients.get(ref);
    if (cur) return cur.client;
    const l = this.linkSys[ref];
    if (!l) return `LinkSys ${ref} does not exist`;
    if (l.type !== 'webhook') return `LinkSys ${ref} is of type ${l.type}, not webhook`;
    try {
      const client = new WebhookClient(ref, normalizeWebhookConfig(l.config), this.counters, this.logger);
      this.clients.set(ref, { json: JSON.stringify(l.config), client });
      return client;
    } catch (err) {
      return `LinkSys ${ref} cannot be used: ${(err as Error).message}`;
    }
  }

  readonly resolve: WebhookResolver = async (ref, extract, s) => {
    let calls = this.perRequest.get(s);
    if (!calls) this.perRequest.set(s, (calls = new Map()));
    let pending = calls.get(ref);
    if (!pending) {
      const c = this.client(ref);
      pending = typeof c === 'string' ? Promise.resolve({ why: c }) : c.call(s).catch((err: unknown) => ({ why: (err as Error).message }));
      calls.set(ref, pending);
      void pending.then((r) => {
        if (r.why) s.log(`webhook ${ref}: ${r.why}`);
      });
    }
    const r = await pending;
    if (!r.answer) return undefined;
    const v = extractValue(r.answer, extract);
    if (v === undefined) s.log(`webhook ${ref}: ${extract?.source ?? 'extract'} ${extract?.name ?? extract?.path ?? ''} missing`);
    return v;
  };

  close(): void {
    for (const c of this.clients.values()) c.client.close();
    this.clients.clear();
  }
}
