// Gateway API RequestRedirect (resources.md §7.4 with DECISIONS.md §5 and §13): answers with a
// Location built from the request; the query string is kept.

import type { FilterIR } from '../../ir/index.js';
import type { RequestStep } from '../pipeline/steps.js';
import { rewritePath } from './path-rewrite.js';

type RedirectIR = Extract<FilterIR, { type: 'RequestRedirect' }>;

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443 };

export function requestRedirect(f: RedirectIR): RequestStep {
  return {
    name: 'RequestRedirect',
    run(ctx) {
      const scheme = f.scheme ?? (ctx.tls ? 'https' : 'http');
      const host = f.hostname ?? (ctx.host || 'localhost');
      const port = f.port ?? (f.scheme ? DEFAULT_PORT[f.scheme] : ctx.listenerPort);
      const path = f.path ? rewritePath(ctx.path, f.path, ctx.matchedPrefix) : ctx.path;
      const query = ctx.queryString;
      const portPart = port === undefined || port === DEFAULT_PORT[scheme] ? '' : `:${port}`;
      const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
      const location = `${scheme}://${hostPart}${portPart}${path}${query ? '?' + query : ''}`;
      return { status: f.statusCode, headers: { location }, body: '' };
    },
  };
}
