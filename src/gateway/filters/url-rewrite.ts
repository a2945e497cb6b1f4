// Gateway API URLRewrite: replaces the upstream Host and/or path; the query string is kept.

import type { FilterIR } from '../../ir/index.js';
import type { RequestStep } from '../pipeline/steps.js';
import { rewritePath, withQuery } from '../../shared/path-rewrite.js';

type UrlRewriteIR = Extract<FilterIR, { type: 'URLRewrite' }>;

export function urlRewrite(f: UrlRewriteIR): RequestStep {
  return {
    name: 'URLRewrite',
    run(ctx) {
      if (f.hostname) ctx.upHeaders.set('host', f.hostname);
      if (f.path) ctx.upPath = withQuery(rewritePath(ctx.path, f.path, ctx.matchedPrefix), ctx.queryString);
    },
  };
}
