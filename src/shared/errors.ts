// One catalogue of error codes used across processes (admin APIs, CLI, logs).
// Codes are stable: scripts match on them.

export const ErrorCodes = {
  INVALID: 'EDG_ERR_INVALID',
  NOT_FOUND: 'EDG_ERR_NOT_FOUND',
  BAD_REQUEST: 'EDG_ERR_BAD_REQUEST',
  UNAUTHORIZED: 'EDG_ERR_UNAUTHORIZED',
  UNKNOWN_KIND: 'EDG_ERR_UNKNOWN_KIND',
  METHOD_NOT_ALLOWED: 'EDG_ERR_METHOD_NOT_ALLOWED',
  CONFLICT: 'EDG_ERR_CONFLICT',
  INTERNAL: 'EDG_ERR_INTERNAL',
  UNAVAILABLE: 'EDG_ERR_UNAVAILABLE',
  NOT_READY: 'EDG_ERR_NOT_READY',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface ErrorBody {
  error: { code: ErrorCode | string; message: string; details?: unknown };
}

export function errorBody(code: ErrorCode | string, message: string, details?: unknown): ErrorBody {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } };
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
