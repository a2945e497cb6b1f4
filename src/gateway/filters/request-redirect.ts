// Gateway API RequestRedirect (resources.md §7.4 with DECISIONS.md §5 and §13): answers with a
// Location built from the request (src/shared/path-rewrite.ts); the query string is kept.

import type { FilterIR } from '../../ir/index.js';
import type { RequestStep } from '../pipeline/steps.js';
import { redirectLocation } from '../../shared/path-rewrite.js';

type RedirectIR = Extract<FilterIR, { type: 'RequestRedirect' }>;

export function requestRedirect(f: RedirectIR): RequestStep {
  return {
    name: 'RequestRedirect',
    run(ctx) {
      const location = redirectLocation(f, {
        scheme: ctx.tls ? 'https' : 'http',
        host: ctx.host,
        listenerPort: ctx.listenerPort,
        path: ctx.path,
        queryString: ctx.queryString,
        matchedPrefix: ctx.matchedPrefix,
      });
      return { status: f.statusCode, headers: { location }, body: '' };
    },
  };
}
