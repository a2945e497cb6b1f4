// DynamicInternalUpstream (plugins.md §4.25): picks which backendRef of the rule serves the
// request from a request value, through `rules` (value → backendRef) or, without rules, the value
// naming the backendRef itself. An explicit choice may pick a backendRef of weight 0
// (DECISIONS.md §31).
import { Type } from 'typebox';
import { definePlugin, type PluginProblem, type PluginReply, type PluginSession } from '../../runtime/define-plugin.js';
import { badRequest, compileFrom, forbidden, FromFields, fromProblems } from './upstream-common.js';

const Schema = Type.Object({
  ...FromFields,
  rules: Type.Optional(
    Type.Array(
      Type.Object({
        value: Type.String(),
        backendRef: Type.Object({ name: Type.String({ minLength: 1 }), namespace: Type.Optional(Type.String({ minLength: 1 })) }),
      }),
    ),
  ),
  onMissing: Type.Union([Type.Literal('fallback'), Type.Literal('reject')], { default: 'fallback' }),
  onNoMatch: Type.Union([Type.Literal('fallback'), Type.Literal('reject')], { default: 'fallback' }),
  onInvalid: Type.Union([Type.Literal('reject'), Type.Literal('fallback')], { default: 'reject' }),
  debugHeader: Type.Boolean({ default: false }),
});

export const DynamicInternalUpstream = definePlugin({
  type: 'DynamicInternalUpstream',
  stages: ['requestPlugins'],
  schema: Schema,
  validate(c) {
    const out: PluginProblem[] = fromProblems(c);
    if (c.rules !== undefined && c.rules.length === 0) out.push({ path: 'rules', message: 'an empty rules list matches nothing; omit rules for direct mode (the value names the backendRef)' });
    const seen = new Set<string>();
    (c.rules ?? []).forEach((r, i) => {
      if (seen.has(r.value)) out.push({ path: `rules[${i}].value`, message: `value "${r.value}" is listed twice` });
      seen.add(r.value);
    });
    return out;
  },
  create(c, deps) {
    const valueOf = compileFrom(c, deps.webhook);
    const table = c.rules ? new Map(c.rules.map((r) => [r.value, r.backendRef])) : undefined;
    const decide = (s: PluginSession, v: string | undefined): PluginReply | undefined => {
      if (v === undefined) {
        if (c.onMissing === 'reject') return badRequest('no upstream selector in the request', 'DynamicUpstreamMissing');
        return undefined;
      }
      let target: { name: string; namespace?: string | undefined } | undefined;
      if (table !== undefined) {
        target = table.get(v);
        if (target === undefined) {
          s.log(`no rule for ${v}`);
          if (c.onNoMatch === 'reject') return badRequest(`no upstream for "${v}"`, 'DynamicUpstreamNoMatch');
          return undefined;
        }
      } else {
        target = { name: v };
      }
      const shown = target.namespace ? `${target.namespace}/${target.name}` : target.name;
      const backends = s.backends();
      const index = backends.findIndex((b) => b.name === target.name && (target.namespace === undefined || b.namespace === target.namespace));
      if (index === -1) {
        s.log(`not a backendRef: ${shown}`);
        if (c.onInvalid === 'reject') return forbidden(`${shown} is not a backend of this route`, 'DynamicUpstreamNotAllowed');
        return undefined;
      }
      s.setUpstream({ kind: 'backend', index });
      s.log(`backend ${shown}`);
      if (c.debugHeader) s.setHeader('x-dynamic-internal-upstream', shown);
      return undefined;
    };
    return {
      onRequest(s) {
        const v = valueOf(s);
        return v instanceof Promise ? v.then((x) => decide(s, x)) : decide(s, v);
      },
    };
  },
});
