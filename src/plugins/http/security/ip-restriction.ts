// IpRestriction, HTTP (plugins.md §4.12, DECISIONS.md §24): allow and deny lists of IPs and CIDRs
// (IPv4 and IPv6). Deny is checked first and wins; with an allow list, an address not in it is
// denied; otherwise `defaultAction` decides. The original never built its matchers; these work.
import { Type } from 'typebox';
import { definePlugin, type PluginProblem } from '../../runtime/define-plugin.js';
import { cidrList } from '../../../shared/net.js';

const Schema = Type.Object({
  allow: Type.Optional(Type.Array(Type.String())),
  deny: Type.Optional(Type.Array(Type.String())),
  defaultAction: Type.Union([Type.Literal('allow'), Type.Literal('deny')], { default: 'allow' }),
  ipSource: Type.Union([Type.Literal('clientIp'), Type.Literal('remoteAddr')], { default: 'clientIp' }),
  status: Type.Integer({ minimum: 100, maximum: 599, default: 403 }),
  message: Type.String({ default: 'Your IP address is not allowed to access this resource' }),
});

/** `10.0.0.0/` or `1.2.3.4/ 8` must not pass as something else: one strict shape per entry. */
const ENTRY = /^[0-9a-fA-F:.]+(?:\/\d{1,3})?$/;

function listProblems(field: 'allow' | 'deny', list: string[] | undefined): PluginProblem[] {
  if (list === undefined) return [];
  if (list.length === 0) return [{ path: field, message: `${field} is empty: list at least one IP or CIDR, or leave ${field} out` }];
  const out: PluginProblem[] = [];
  list.forEach((e, i) => {
    if (!ENTRY.test(e.trim()) || cidrList([e]).invalid.length) out.push({ path: `${field}[${i}]`, message: `"${e}" is not an IP address or CIDR (like 10.0.0.0/8 or 2001:db8::/32)` });
  });
  return out;
}

export const IpRestriction = definePlugin({
  type: 'IpRestriction',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const problems = [...listProblems('allow', c.allow), ...listProblems('deny', c.deny)];
    if (c.allow === undefined && c.deny === undefined) problems.push({ path: '', message: 'set allow or deny (or both): an IpRestriction without lists restricts nothing' });
    return problems;
  },
  create(c) {
    const allow = c.allow ? cidrList(c.allow) : undefined;
    const deny = c.deny ? cidrList(c.deny) : undefined;
    const defaultDeny = c.defaultAction === 'deny';
    const body = JSON.stringify({ message: c.message });
    const reply = () => ({ status: c.status, headers: { 'content-type': 'application/json' }, body, error: 'IpRestricted' });
    const fromPeer = c.ipSource === 'remoteAddr';
    return {
      onRequest(s) {
        const ip = fromPeer ? s.peerIp : s.clientIp;
        if (deny?.has(ip)) {
          s.log(`denied ${ip} (deny list)`);
          return reply();
        }
        if (allow !== undefined) {
          if (allow.has(ip)) return undefined;
          s.log(`denied ${ip} (not in allow list)`);
          return reply();
        }
        if (defaultDeny) {
          s.log(`denied ${ip} (defaultAction deny)`);
          return reply();
        }
        return undefined;
      },
    };
  },
});
