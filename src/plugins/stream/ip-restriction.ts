// EdgionStreamPlugins (plugins.md §5): the only stream plugin type, IpRestriction, checked against
// the TCP peer (or UDP source) address. Deny wins; with an allow list an unlisted address is denied;
// otherwise `defaultAction` decides. One with only `defaultAction` is valid (DECISIONS.md §39):
// allow-all or deny-all. Validation (controller) and compilation (gateway) live here together.

import { cidrList, type CidrList } from '../../shared/net.js';

export const STREAM_PLUGIN_TYPES = ['IpRestriction'] as const;

export interface StreamPluginProblem {
  /** Relative to the entry (`config.allow[2]`). */
  path: string;
  message: string;
}

/** A compiled stream plugin: decides on an address, returns the reason when it denies. */
export interface StreamCheck {
  readonly type: string;
  check(ip: string): string | undefined;
}

const ENTRY = /^[0-9a-fA-F:.]+(?:\/\d{1,3})?$/;
const DEFAULT_MESSAGE = 'IP address not allowed';

function listProblems(field: 'allow' | 'deny', list: unknown): StreamPluginProblem[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) return [{ path: `config.${field}`, message: `${field} must be a list of IP addresses or CIDRs` }];
  if (list.length === 0) return [{ path: `config.${field}`, message: `${field} is empty: list at least one IP or CIDR, or leave ${field} out` }];
  const out: StreamPluginProblem[] = [];
  list.forEach((e, i) => {
    if (typeof e !== 'string' || !ENTRY.test(e.trim()) || cidrList([e]).invalid.length) {
      out.push({ path: `config.${field}[${i}]`, message: `${JSON.stringify(e)} is not an IP address or CIDR (like 10.0.0.0/8 or 2001:db8::/32)` });
    }
  });
  return out;
}

/** Problems of one EdgionStreamPlugins entry (`{enable, type, config}`). */
export function validateStreamPluginEntry(entry: Record<string, unknown>): StreamPluginProblem[] {
  if (entry.type !== 'IpRestriction') return [{ path: 'type', message: `unknown stream plugin type ${JSON.stringify(entry.type)} (supported: ${STREAM_PLUGIN_TYPES.join(', ')})` }];
  const config = (entry.config ?? {}) as Record<string, unknown>;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return [{ path: 'config', message: 'config must be a mapping' }];
  const problems = [...listProblems('allow', config.allow), ...listProblems('deny', config.deny)];
  if (config.defaultAction !== undefined && config.defaultAction !== 'allow' && config.defaultAction !== 'deny') {
    problems.push({ path: 'config.defaultAction', message: `defaultAction must be "allow" or "deny" (got ${JSON.stringify(config.defaultAction)})` });
  }
  if (config.message !== undefined && typeof config.message !== 'string') problems.push({ path: 'config.message', message: 'message must be a string' });
  for (const k of Object.keys(config)) {
    if (!['allow', 'deny', 'defaultAction', 'message'].includes(k)) problems.push({ path: `config.${k}`, message: `unknown field "${k}" (IpRestriction has allow, deny, defaultAction, message)` });
  }
  return problems;
}

class IpRestrictionCheck implements StreamCheck {
  readonly type = 'IpRestriction';
  private readonly allow: CidrList | undefined;
  private readonly deny: CidrList | undefined;
  private readonly defaultDeny: boolean;
  private readonly message: string;

  constructor(config: Record<string, unknown>) {
    this.allow = Array.isArray(config.allow) ? cidrList(config.allow as string[]) : undefined;
    this.deny = Array.isArray(config.deny) ? cidrList(config.deny as string[]) : undefined;
    this.defaultDeny = config.defaultAction === 'deny';
    this.message = typeof config.message === 'string' ? config.message : DEFAULT_MESSAGE;
  }

  check(ip: string): string | undefined {
    if (this.deny !== undefined && this.deny.has(ip)) return `${this.message} (${ip} is in the deny list)`;
    if (this.allow !== undefined) return this.allow.has(ip) ? undefined : `${this.message} (${ip} is not in the allow list)`;
    return this.defaultDeny ? `${this.message} (${ip}: defaultAction deny)` : undefined;
  }
}

/** Builds the checks of enabled entries (the controller validated them). */
export function compileStreamPlugins(entries: readonly { type: string; enable: boolean; config: unknown }[]): StreamCheck[] {
  const out: StreamCheck[] = [];
  for (const e of entries) {
    if (!e.enable) continue;
    if (e.type === 'IpRestriction') out.push(new IpRestrictionCheck((e.config ?? {}) as Record<string, unknown>));
  }
  return out;
}
