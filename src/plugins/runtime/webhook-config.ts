// LinkSys `type: webhook` configuration (plugins.md §3.3): the schema the controller validates
// (with precise paths), and the normalised form with every default filled in that the gateway's
// webhook client runs on.
import type { ValidateFunction } from 'ajv';
import { Type, type Static } from 'typebox';
import { createAjv } from '../../api/ajv-setup.js';
import { schemaDiagnostics } from '../../api/schema-errors.js';
import type { PluginProblem } from './define-plugin.js';

const Int = (min: number, max: number, dflt?: number) => Type.Integer({ minimum: min, maximum: max, ...(dflt !== undefined ? { default: dflt } : {}) });
const HeaderName = Type.String({ minLength: 1, pattern: "^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$", 'x-edgion-message': 'must be a header name' });
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

export const WebhookConfigSchema = Type.Object(
  {
    uri: Type.String({ minLength: 1, pattern: '^[hH][tT][tT][pP][sS]?://', 'x-edgion-message': 'must be an http:// or https:// URL' }),
    requestMethod: Type.Enum(METHODS, { default: 'GET' }),
    timeoutMs: Int(1, 60_000, 5000),
    tls: Type.Optional(
      Type.Object({
        enabled: Type.Optional(Type.Boolean()),
        insecureSkipVerify: Type.Optional(Type.Boolean()),
        certs: Type.Optional(
          Type.Object({
            caCert: Type.Optional(Type.String()),
            clientCert: Type.Optional(Type.String()),
            clientKey: Type.Optional(Type.String()),
            secretRef: Type.Optional(Type.Object({ name: Type.Optional(Type.String()), namespace: Type.Optional(Type.String()) })),
          }),
        ),
      }),
    ),
    requestHeaders: Type.Optional(Type.Array(HeaderName)),
    successStatusCodes: Type.Optional(Type.Array(Int(100, 599), { minItems: 1 })),
    maxResponseBytes: Int(1, 16_384, 1024),
    allowDegradation: Type.Boolean({ default: false }),
    statusOnError: Int(100, 599, 503),
    retry: Type.Optional(
      Type.Object({
        maxRetries: Int(0, 10, 1),
        retryDelayMs: Int(0, 30_000, 100),
        retryOnTimeout: Type.Boolean({ default: true }),
        retryOnConnectError: Type.Boolean({ default: true }),
        retryOnStatus: Type.Array(Int(100, 599), { default: [] }),
      }),
    ),
    rateLimit: Type.Optional(Type.Object({ rate: Int(1, 1_000_000), windowSec: Int(1, 3600, 1) })),
    healthCheck: Type.Optional(
      Type.Object({
        active: Type.Optional(
          Type.Object({
            path: Type.String({ default: '/', pattern: '^/', 'x-edgion-message': 'must start with /' }),
            intervalSec: Int(1, 3600, 10),
            timeoutMs: Int(1, 60_000, 2000),
            healthyThreshold: Int(1, 100, 1),
            unhealthyThreshold: Int(1, 100, 3),
          }),
        ),
        passive: Type.Optional(
          Type.Object({
            unhealthyThreshold: Int(1, 1000, 3),
            failureStatusCodes: Type.Array(Int(100, 599), { default: [500, 502, 503, 504] }),
            countTimeout: Type.Boolean({ default: true }),
            backoff: Type.Optional(
              Type.Object({
                initialSec: Type.Number({ exclusiveMinimum: 0, maximum: 3600, default: 5 }),
                multiplier: Type.Number({ minimum: 1, maximum: 100, default: 2 }),
                maxSec: Type.Number({ exclusiveMinimum: 0, maximum: 86_400, default: 60 }),
              }),
            ),
          }),
        ),
      }),
    ),
  },
  { additionalProperties: true },
);

type Raw = Static<typeof WebhookConfigSchema>;

/** Every field filled in: what the gateway's webhook client runs on. */
export interface WebhookConfig {
  uri: string;
  requestMethod: string;
  timeoutMs: number;
  tls: { enabled: boolean; insecureSkipVerify: boolean; caCert?: string; clientCert?: string; clientKey?: string };
  requestHeaders: string[];
  /** Empty = any 2xx. */
  successStatusCodes: number[];
  maxResponseBytes: number;
  retry: { maxRetries: number; retryDelayMs: number; retryOnTimeout: boolean; retryOnConnectError: boolean; retryOnStatus: number[] };
  rateLimit?: { rate: number; windowSec: number };
  active?: { path: string; intervalSec: number; timeoutMs: number; healthyThreshold: number; unhealthyThreshold: number };
  passive?: { unhealthyThreshold: number; failureStatusCodes: number[]; countTimeout: boolean; backoff: { initialSec: number; multiplier: number; maxSec: number } };
}

let validator: ValidateFunction | undefined;

/** Controller-side validation of a webhook LinkSys `spec.config` (paths relative to it). */
export function webhookConfigProblems(config: unknown): PluginProblem[] {
  validator ??= createAjv().compile(WebhookConfigSchema as object);
  const copy = structuredClone(config ?? {});
  if (!validator(copy)) return schemaDiagnostics(validator.errors ?? [], copy).map((d) => ({ path: d.path ?? '', message: d.message }));
  const c = copy as Raw;
  const out: PluginProblem[] = [];
  try {
    const u = new URL(c.uri);
    if (u.username || u.password) out.push({ path: 'uri', message: 'must not carry credentials (send them with requestHeaders from the request, or use a Secret)' });
  } catch {
    out.push({ path: 'uri', message: `not a valid URL: ${c.uri}` });
  }
  const b = c.healthCheck?.passive?.backoff;
  if (b && b.maxSec < b.initialSec) out.push({ path: 'healthCheck.passive.backoff.maxSec', message: `must be ≥ initialSec (${b.initialSec})` });
  const certs = c.tls?.certs;
  if (certs && (certs.clientCert === undefined) !== (certs.clientKey === undefined)) out.push({ path: 'tls.certs', message: 'clientCert and clientKey go together' });
  return out;
}

/** The config with defaults (it was validated by the controller; this never throws). */
export function normalizeWebhookConfig(raw: Record<string, unknown>): WebhookConfig {
  const c = raw as Partial<Raw>;
  const r = c.retry;
  const a = c.healthCheck?.active;
  const p = c.healthCheck?.passive;
  const certs = c.tls?.certs;
  return {
    uri: String(c.uri ?? ''),
    requestMethod: String(c.requestMethod ?? 'GET').toUpperCase(),
    timeoutMs: c.timeoutMs ?? 5000,
    tls: {
      enabled: c.tls?.enabled ?? false,
      insecureSkipVerify: c.tls?.insecureSkipVerify ?? false,
      ...(certs?.caCert ? { caCert: certs.caCert } : {}),
      ...(certs?.clientCert ? { clientCert: certs.clientCert } : {}),
      ...(certs?.clientKey ? { clientKey: certs.clientKey } : {}),
    },
    requestHeaders: (c.requestHeaders ?? []).map((h) => h.toLowerCase()),
    successStatusCodes: c.successStatusCodes ?? [],
    maxResponseBytes: Math.min(c.maxResponseBytes ?? 1024, 16_384),
    retry: {
      maxRetries: r?.maxRetries ?? 1,
      retryDelayMs: r?.retryDelayMs ?? 100,
      retryOnTimeout: r?.retryOnTimeout ?? true,
      retryOnConnectError: r?.retryOnConnectError ?? true,
      retryOnStatus: r?.retryOnStatus ?? [],
    },
    ...(c.rateLimit ? { rateLimit: { rate: c.rateLimit.rate, windowSec: c.rateLimit.windowSec ?? 1 } } : {}),
    ...(a
      ? { active: { path: a.path ?? '/', intervalSec: a.intervalSec ?? 10, timeoutMs: a.timeoutMs ?? 2000, healthyThreshold: a.healthyThreshold ?? 1, unhealthyThreshold: a.unhealthyThreshold ?? 3 } }
      : {}),
    ...(p
      ? {
          passive: {
            unhealthyThreshold: p.unhealthyThreshold ?? 3,
            failureStatusCodes: p.failureStatusCodes ?? [500, 502, 503, 504],
            countTimeout: p.countTimeout ?? true,
            backoff: { initialSec: p.backoff?.initialSec ?? 5, multiplier: p.backoff?.multiplier ?? 2, maxSec: p.backoff?.maxSec ?? 60 },
          },
        }
      : {}),
  };
}
