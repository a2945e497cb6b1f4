// HTTP client for the controller and gateway admin APIs (undici).
//
// What it guarantees to callers:
// - every request has a deadline (no CLI hangs on a stuck server);
// - the bearer token is sent when one is configured;
// - "nothing listens there" becomes EDG_ERR_UNREACHABLE (exit 3) with a hint that
//   names the URL, where it came from, and how to start the process;
// - an error envelope `{"error":{code,message,details}}` becomes a CliError that keeps
//   the server's code and message.
// undici is imported on first use: oclif loads every command module at startup, and
// importing undici there would slow down `edgion-ctl --version` and `--help`.

import type { Agent, Dispatcher } from 'undici';
import type {
  ApiErrorBody,
  ApplyResponse,
  ControllerStatus,
  DeleteResponse,
  GatewayStatus,
  Resource,
  ResourceList,
} from './admin-types.js';
import { CliError, cliError } from './errors.js';
import type { AdminTarget } from './targets.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

export interface AdminResponse {
  status: number;
  /** Parsed JSON body; undefined when the body is empty or not JSON. */
  json: unknown;
  text: string;
}

export interface SendOptions {
  body?: string;
  contentType?: string;
  query?: Record<string, string | undefined>;
}

type Undici = typeof import('undici');

/** Network errors that mean "nobody answers at that address". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_ABORTED']);

export class AdminClient {
  private undici: Undici | undefined;
  private agent: Agent | undefined;
  private readonly timeoutMs: number;

  constructor(
    readonly target: AdminTarget,
    options: { timeoutMs?: number } = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /** Sends a request and returns whatever status came back; throws only when unreachable. */
  async send(method: Dispatcher.HttpMethod, path: string, options: SendOptions = {}): Promise<AdminResponse> {
    const undici = (this.undici ??= await import('undici'));
    // One keep-alive agent per client: polling loops reuse the connection, and close()
    // releases the sockets so the CLI process can exit.
    this.agent ??= new undici.Agent({ connect: { timeout: this.timeoutMs }, keepAliveTimeout: 2000 });
    const url = new URL(this.target.url + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.target.token) headers.authorization = `Bearer ${this.target.token}`;
    if (options.contentType) headers['content-type'] = options.contentType;
    try {
      const res = await undici.request(url, {
        method,
        headers,
        body: options.body,
        dispatcher: this.agent,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: AbortSignal.timeout(this.timeoutMs + 500),
      });
      const text = await res.body.text();
      return { status: res.statusCode, json: parseJson(text), text };
    } catch (err) {
      throw this.networkError(err);
    }
  }

  /** GET that must answer 2xx with JSON. */
  async getJson<T>(path: string, query?: Record<string, string | undefined>): Promise<T> {
    const res = await this.send('GET', path, { query });
    if (res.status < 200 || res.status > 299) throw errorFromResponse(this.target, 'GET', path, res);
    if (res.json === undefined) {
      throw cliError('adminApi', `${this.target.name} answered GET ${path} with a body that is not JSON`, {
        details: { status: res.status, body: res.text.slice(0, 500) },
      });
    }
    return res.json as T;
  }

  async close(): Promise<void> {
    const agent = this.agent;
    this.agent = undefined;
    if (agent) await agent.close();
  }

  private networkError(err: unknown): CliError {
    const code = errorCode(err);
    const name = err instanceof Error ? err.name : '';
    const { target } = this;
    const hint = unreachableHint(target);
    if (name === 'TimeoutError' || name === 'AbortError' || (code && TIMEOUT_CODES.has(code))) {
      return cliError('adminTimeout', `the ${target.name} at ${target.url} did not answer within ${Math.round(this.timeoutMs / 1000)}s`, {
        hint,
        details: { url: target.url, code: code ?? name },
        cause: err,
      });
    }
    const reason = code === 'ECONNREFUSED' ? 'connection refused' : (code ?? (err instanceof Error ? err.message : String(err)));
    if (code === undefined || UNREACHABLE_CODES.has(code) || code.startsWith('UND_ERR')) {
      return cliError('unreachable', `cannot reach the ${target.name} at ${target.url} (${reason})`, {
        hint,
        details: { url: target.url, code: code ?? null, source: target.source },
        cause: err,
      });
    }
    return cliError('unreachable', `cannot reach the ${target.name} at ${target.url} (${reason})`, { hint, cause: err });
  }
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  // undici and Node nest the socket error in `cause` (and AggregateError for dual-stack hosts).
  for (let depth = 0; current && depth < 4; depth++) {
    const e = current as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof e.code === 'string') return e.code;
    current = e.cause ?? (Array.isArray(e.errors) ? e.errors[0] : undefined);
  }
  return undefined;
}

export function unreachableHint(target: AdminTarget): string {
  const where =
    target.source === 'run-file'
      ? ` (URL read from ${target.sourceDetail})`
      : target.source === 'default'
        ? ' (default URL)'
        : ` (URL from ${target.sourceDetail})`;
  const flag = target.name === 'controller' ? '--controller-url or EDGION_CONTROLLER_URL' : '--gateway-url or EDGION_GATEWAY_URL';
  return `Is the ${target.name} running${where}? Start everything with "edgion-ctl up" (add -d for the background), or point ${flag} at it.`;
}

/** Maps a non-2xx answer to a CliError, keeping the server's own error code and message. */
export function errorFromResponse(target: AdminTarget, method: string, path: string, res: AdminResponse): CliError {
  const envelope = (res.json as ApiErrorBody | undefined)?.error;
  const serverMessage = envelope?.message;
  const details = envelope?.details ?? { status: res.status, body: res.json === undefined ? res.text.slice(0, 500) : res.json };
  if (res.status === 401 || res.status === 403) {
    return cliError('unauthorized', serverMessage ?? `the ${target.name} refused the request (HTTP ${res.status})`, {
      code: envelope?.code,
      details,
      hint: target.token
        ? 'The token was not accepted. Check --token / EDGION_ADMIN_TOKEN.'
        : 'The admin API needs a token: pass --token or set EDGION_ADMIN_TOKEN.',
    });
  }
  if (res.status === 404) {
    return cliError('notFound', serverMessage ?? `${method} ${path}: not found`, { code: envelope?.code, details });
  }
  return cliError('adminApi', serverMessage ?? `the ${target.name} answered ${method} ${path} with HTTP ${res.status}`, {
    code: envelope?.code,
    details,
  });
}

/** Typed calls to the controller admin API. */
export class ControllerApi {
  constructor(readonly client: AdminClient) {}

  get target(): AdminTarget {
    return this.client.target;
  }

  status(): Promise<ControllerStatus> {
    return this.client.getJson<ControllerStatus>('/api/v1/status');
  }

  async list(kind: string, namespace?: string): Promise<Resource[]> {
    const list = await this.client.getJson<ResourceList>(`/api/v1/resources/${enc(kind)}`, { namespace });
    return Array.isArray(list.items) ? list.items : [];
  }

  /** The resource, or undefined when the controller answers 404. */
  async get(kind: string, namespace: string | undefined, name: string): Promise<Resource | undefined> {
    const path = resourcePath(kind, namespace, name);
    const res = await this.client.send('GET', path);
    if (res.status === 404) return undefined;
    if (res.status < 200 || res.status > 299) throw errorFromResponse(this.target, 'GET', path, res);
    return res.json as Resource;
  }

  /**
   * POST /api/v1/apply. Returns 200 and 422 answers alike (both carry per-resource
   * results); other statuses throw.
   */
  async apply(body: string, dryRun: boolean): Promise<ApplyResponse & { status: number; error?: ApiErrorBody['error'] }> {
    const path = '/api/v1/apply';
    const res = await this.client.send('POST', path, {
      body,
      contentType: 'application/yaml',
      query: { dryRun: dryRun ? 'true' : undefined },
    });
    const json = res.json as (Partial<ApplyResponse> & Partial<ApiErrorBody>) | undefined;
    if ((res.status === 200 || res.status === 422) && json && Array.isArray(json.results)) {
      return { status: res.status, results: json.results, snapshotVersion: json.snapshotVersion, error: json.error };
    }
    throw errorFromResponse(this.target, 'POST', path, res);
  }

  /** DELETE a resource; undefined when it did not exist (404). */
  async delete(kind: string, namespace: string | undefined, name: string): Promise<DeleteResponse | undefined> {
    const path = resourcePath(kind, namespace, name);
    const res = await this.client.send('DELETE', path);
    if (res.status === 404) return undefined;
    if (res.status < 200 || res.status > 299) throw errorFromResponse(this.target, 'DELETE', path, res);
    return (res.json ?? {}) as DeleteResponse;
  }
}

/** Typed calls to the gateway admin API. */
export class GatewayApi {
  constructor(readonly client: AdminClient) {}

  get target(): AdminTarget {
    return this.client.target;
  }

  status(): Promise<GatewayStatus> {
    return this.client.getJson<GatewayStatus>('/api/v1/status');
  }

  /** GET /ready: true on 200, false on 503 (or any other answer). */
  async ready(): Promise<boolean> {
    const res = await this.client.send('GET', '/ready');
    if (res.status === 401 || res.status === 403) throw errorFromResponse(this.target, 'GET', '/ready', res);
    return res.status === 200;
  }
}

export function resourcePath(kind: string, namespace: string | undefined, name: string): string {
  return namespace
    ? `/api/v1/resources/${enc(kind)}/${enc(namespace)}/${enc(name)}`
    : `/api/v1/resources/${enc(kind)}/${enc(name)}`;
}

const enc = encodeURIComponent;
