// The one error catalogue of edgion-ctl.
//
// Every failure a user can see has a stable EDG_ERR_* code (scripts match on it in
// `--json` output), a default message and the exit code CONTRACT.md fixes:
//   0 success · 1 ran and failed · 2 usage error · 3 cannot reach the controller or gateway.
// Library code throws CliError; the base command turns it into text or JSON and the
// exit code. Codes that the admin APIs send back (their own error envelope) are kept
// as they are, so a script sees the same code from the API and from the CLI.

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

interface ErrorSpec {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly message: string;
}

function spec(code: string, exitCode: ExitCodeValue, message: string): ErrorSpec {
  return { code, exitCode, message };
}

export const Errors = {
  // usage (2)
  usage: spec('EDG_ERR_USAGE', ExitCode.usage, 'invalid flags or arguments'),
  unknownKind: spec('EDG_ERR_UNKNOWN_KIND', ExitCode.usage, 'unknown resource kind'),
  ambiguousName: spec('EDG_ERR_AMBIGUOUS', ExitCode.usage, 'the name exists in more than one namespace'),
  pathNotFound: spec('EDG_ERR_PATH_NOT_FOUND', ExitCode.usage, 'file or folder not found'),
  // unreachable (3)
  unreachable: spec('EDG_ERR_UNREACHABLE', ExitCode.unreachable, 'cannot reach the admin API'),
  adminTimeout: spec('EDG_ERR_ADMIN_TIMEOUT', ExitCode.unreachable, 'the admin API did not answer in time'),
  // ran and failed (1)
  notFound: spec('EDG_ERR_NOT_FOUND', ExitCode.failed, 'resource not found'),
  invalid: spec('EDG_ERR_INVALID', ExitCode.failed, 'resources rejected'),
  invalidManifest: spec('EDG_ERR_MANIFEST', ExitCode.failed, 'the files could not be read as resources'),
  unauthorized: spec('EDG_ERR_UNAUTHORIZED', ExitCode.failed, 'the admin API refused the token'),
  adminApi: spec('EDG_ERR_ADMIN_API', ExitCode.failed, 'the admin API answered with an error'),
  notReady: spec('EDG_ERR_NOT_READY', ExitCode.failed, 'the gateway is not ready'),
  waitTimeout: spec('EDG_ERR_WAIT_TIMEOUT', ExitCode.failed, 'not done within --timeout'),
  portInUse: spec('EDG_ERR_PORT_IN_USE', ExitCode.failed, 'a port is already in use'),
  startFailed: spec('EDG_ERR_START_FAILED', ExitCode.failed, 'a process could not be started'),
  alreadyRunning: spec('EDG_ERR_ALREADY_RUNNING', ExitCode.failed, 'edgion is already running from this work dir'),
  nothingToStop: spec('EDG_ERR_NOTHING_TO_STOP', ExitCode.failed, 'nothing to stop'),
  stopTimeout: spec('EDG_ERR_STOP_TIMEOUT', ExitCode.failed, 'processes did not stop in time'),
  internal: spec('EDG_ERR_INTERNAL', ExitCode.failed, 'internal error'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof Errors;

export interface CliErrorOptions {
  /** Machine-readable extra information (the JSON envelope's `details`). */
  details?: unknown;
  /** One line telling the user what to do next; printed under the message. */
  hint?: string;
  /** Overrides the catalogue's code, e.g. to keep a code sent by the admin API. */
  code?: string;
  /** Overrides the catalogue's exit code (rare: an admin API code with our exit code). */
  exitCode?: ExitCodeValue;
  /**
   * What the command had gathered before failing (status summary, apply results).
   * In --json mode these fields sit next to `error` in the one JSON document.
   */
  partialResult?: Record<string, unknown>;
  cause?: unknown;
}

export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly details: unknown;
  readonly hint: string | undefined;
  readonly partialResult: Record<string, unknown> | undefined;

  constructor(which: ErrorSpec, message?: string, options: CliErrorOptions = {}) {
    super(message ?? which.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = options.code ?? which.code;
    this.exitCode = options.exitCode ?? which.exitCode;
    this.details = options.details ?? null;
    this.hint = options.hint;
    this.partialResult = options.partialResult;
  }
}

export function cliError(name: ErrorName, message?: string, options?: CliErrorOptions): CliError {
  return new CliError(Errors[name], message, options);
}

/** The `{"error": {...}}` document printed with --json; the same shape the admin APIs use. */
export interface ErrorDocument {
  error: { code: string; message: string; details: unknown; hint?: string };
  [extra: string]: unknown;
}

export function toErrorDocument(err: CliError): ErrorDocument {
  const error: ErrorDocument['error'] = { code: err.code, message: err.message, details: err.details };
  if (err.hint) error.hint = err.hint;
  return { ...err.partialResult, error };
}

/**
 * Turns anything thrown into a CliError. `duringParse` marks errors raised while oclif
 * parsed argv: those are usage errors (exit 2) whatever oclif's own exit code says,
 * because a flag value oclif could not parse (e.g. `--admin-port abc`) is still bad usage.
 */
export function toCliError(err: unknown, duringParse: boolean): CliError {
  if (err instanceof CliError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (duringParse || isOclifUsageError(err)) {
    // oclif appends "See more help with --help" to the message; keep it as the hint instead.
    const text = message.replace(/\s*See more help with --help\s*$/, '').trim();
    return cliError('usage', text, { hint: 'See more help with --help' });
  }
  return cliError('internal', message, { cause: err, details: err instanceof Error ? { name: err.name } : null });
}

/** oclif's parser errors carry a `parse` property; its CLIError defaults to exit 2 for usage. */
function isOclifUsageError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const oclif = (err as { oclif?: { exit?: number } }).oclif;
  return 'parse' in err || oclif?.exit === 2;
}
