// Gateway API HTTPRoute `CORS` filter (HTTPCORSFilter, experimental): the same decisions as the
// Cors plugin (plugins/http/security/cors-core.ts). Gateway API semantics on top: `*` in
// allowMethods / allowHeaders echoes what the preflight asks for, `*` in allowOrigins echoes the
// origin when credentials are allowed, maxAge defaults to 5 s, and `*` in exposeHeaders with
// credentials lists the response's own header names. Preflights are answered here (200), also for
// origins that are not allowed (then without CORS headers).

import type { CorsFilterIR } from '../../ir/index.js';
import { CorsPolicy, originEntryProblem, type CorsRequest } from '../../plugins/http/security/cors-core.js';
import { HeaderEdit, type RequestContext } from '../proxy/context.js';
import type { RequestStep } from '../pipeline/steps.js';

const NOT_EXPOSED = new Set(['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-expose-headers', 'access-control-allow-methods', 'access-control-allow-headers', 'vary', 'set-cookie', 'connection', 'keep-alive', 'transfer-encoding']);

export function corsFilter(f: CorsFilterIR): RequestStep {
  const starMethods = f.allowMethods.includes('*');
  const starHeaders = f.allowHeaders.includes('*');
  const exposeAll = f.exposeHeaders.includes('*') && f.allowCredentials;
  const policy = new CorsPolicy({
    // An entry that is not an origin can never match; the CRD's pattern keeps them out already.
    origins: f.allowOrigins.filter((o) => originEntryProblem(o) === undefined && o !== '**'),
    methods: starMethods ? ['*'] : f.allowMethods,
    reflectMethods: starMethods,
    headers: starHeaders ? [] : f.allowHeaders,
    reflectHeaders: starHeaders,
    expose: exposeAll ? [] : f.exposeHeaders,
    credentials: f.allowCredentials,
    maxAge: f.maxAge ?? 5,
    starWithCredentials: true,
  });
  return {
    name: 'CORS',
    run(ctx: RequestContext) {
      let allowed = false;
      const ops = (ctx.responseOps ??= []);
      const view: CorsRequest = {
        method: ctx.method,
        header: (n) => ctx.upHeaders.get(n),
        setResponseHeader(name, value) {
          if (name === 'access-control-allow-origin') allowed = true;
          ops.push(new HeaderEdit('set', name, value));
        },
        appendResponseHeader(name, value) {
          ops.push(new HeaderEdit('append', name, value));
        },
      };
      const reply = policy.handle(view);
      if (reply) return reply;
      if (allowed && exposeAll) {
        ops.push((h) => {
          const names = Object.keys(h).filter((n) => h[n] !== undefined && !NOT_EXPOSED.has(n));
          if (names.length) h['access-control-expose-headers'] = names.join(',');
        });
      }
      return undefined;
    },
  };
}
