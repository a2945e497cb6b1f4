// The engine's contract for everything that runs on a request: Gateway API filters and
// EdgionPlugins alike. Steps return decisions; the engine writes responses. Steps are built once
// per snapshot by the compiler and are shared by every request; per-request state lives in the
// RequestContext they receive.

import type { RequestContext } from '../proxy/context.js';

/** Response headers as undici parses them and as the engine writes them: lower-case names. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** A response decided by a step (redirect, auth failure, mock, rate limit...). */
export interface Reply {
  status: number;
  headers?: ResponseHeaders;
  body?: string | Buffer;
  /** Gateway status name for the access log's `errors[]`, when this is a rejection. */
  error?: string;
}

export type StepResult = Reply | undefined | void;

export interface RequestStep {
  /** Shown in logs and metrics (`RequestHeaderModifier`, `KeyAuth`, ...). */
  readonly name: string;
  run(ctx: RequestContext): StepResult | Promise<StepResult>;
}

export interface ResponseHeaderStep {
  readonly name: string;
  run(ctx: RequestContext, status: number, headers: ResponseHeaders): void;
}

export function isPromise<T>(v: unknown): v is Promise<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
