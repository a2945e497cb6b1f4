// Which controller and gateway a command talks to.
//
// Precedence: the flag, then the environment variable, then the run file the process
// wrote into the work dir (ports given as 0 are only known from there), then the
// default port of CONTRACT.md. The source is kept so an "unreachable" error can say
// where the URL came from.

import { cliError } from './errors.js';
import { readProcessRunFile, workPaths } from './run-files.js';

export type ProcessName = 'controller' | 'gateway';

export type TargetSource = 'flag' | 'env' | 'run-file' | 'default';

export interface AdminTarget {
  name: ProcessName;
  /** Base URL without trailing slash, e.g. http://127.0.0.1:5800 */
  url: string;
  token: string | undefined;
  source: TargetSource;
  /** Human words for the source: "--controller-url", "EDGION_CONTROLLER_URL", a run file path. */
  sourceDetail: string;
}

export const TARGET_DEFAULTS: Record<ProcessName, { flag: string; env: string; port: number }> = {
  controller: { flag: '--controller-url', env: 'EDGION_CONTROLLER_URL', port: 5800 },
  gateway: { flag: '--gateway-url', env: 'EDGION_GATEWAY_URL', port: 5900 },
};

export interface ResolveTargetInput {
  name: ProcessName;
  flagValue: string | undefined;
  env: NodeJS.ProcessEnv;
  workDir: string;
  token: string | undefined;
}

export async function resolveTarget(input: ResolveTargetInput): Promise<AdminTarget> {
  const defaults = TARGET_DEFAULTS[input.name];
  const base = { name: input.name, token: input.token || undefined };
  if (input.flagValue) {
    return { ...base, url: normalizeUrl(input.flagValue, defaults.flag), source: 'flag', sourceDetail: defaults.flag };
  }
  const fromEnv = input.env[defaults.env];
  if (fromEnv) {
    return { ...base, url: normalizeUrl(fromEnv, defaults.env), source: 'env', sourceDetail: defaults.env };
  }
  const runFile = workPaths(input.workDir).runFile(input.name);
  const run = await readProcessRunFile(runFile);
  if (run) {
    const url = run.adminUrl ?? (run.ports.admin ? `http://127.0.0.1:${run.ports.admin}` : undefined);
    if (url) return { ...base, url: normalizeUrl(url, runFile), source: 'run-file', sourceDetail: runFile };
  }
  return { ...base, url: `http://127.0.0.1:${defaults.port}`, source: 'default', sourceDetail: 'default' };
}

/** Accepts `http://host:port[/]` and the short `host:port`; anything else is a usage error. */
export function normalizeUrl(value: string, from: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw cliError('usage', `${from}: "${value}" is not a URL (expected http://HOST:PORT)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw cliError('usage', `${from}: "${value}" must be an http:// or https:// URL`);
  }
  return url.toString().replace(/\/+$/, '');
}
