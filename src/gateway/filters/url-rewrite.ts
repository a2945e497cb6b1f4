// Gateway API URLRewrite: replaces the upstream Host and/or path; the query string is kept.

import type { FilterIR } from '../../ir/index.js';
import type { RequestStep } from '../pipeline/steps.js';
import { rewritePath } from './path-rewrite.js';

type UrlRewriteIR = Extract<FilterIR, { type: 'URLRewrite' }>;

export function urlRewrite(f: UrlRewriteIR): RequestStep {
  return {
    name: 'URLRewrite',
    run(ctx) {
      if (f.hostname) ctx.upHeaders.set('host', f.hostname);
      if (f.path) {
        const query = ctx.queryString;
        ctx.upPath = rewritePath(ctx.path, f.path, ctx.matchedPrefix) + (query ? '?' + query : '');
      }
    },
  };
}
