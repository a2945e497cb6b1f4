// GRPCRoute matching for one host (Gateway API precedence): an exact service+method match first,
// then service-only, then method-only, then catch-all rules; among equals, more header matches win,
// then the oldest route, `namespace/name`, rule and match order.

import type { MatchRequest, RouteHit, ValueMatcher } from './route-table.js';

export interface GrpcEntryInput<R> {
  rule: R;
  routeOrder: number;
  routeKey: string;
  ruleIndex: number;
  matchIndex: number;
  service?: string;
  method?: string;
  headers: ValueMatcher[];
}


function headersHold(e: GrpcEntryInput<unknown>, req: MatchRequest): boolean {
  for (const h of e.headers) {
    const v = req.header(h.name);
    if (v === undefined || (h.regex ? !h.regex.test(v) : v !== h.exact)) return false;
  }
  return true;
}

const order = <R>(a: GrpcEntryInput<R>, b: GrpcEntryInput<R>): number =>
  b.headers.length - a.headers.length ||
  a.routeOrder - b.routeOrder ||
  (a.routeKey < b.routeKey ? -1 : a.routeKey > b.routeKey ? 1 : 0) ||
  a.ruleIndex - b.ruleIndex ||
  a.matchIndex - b.matchIndex;

export class GrpcTable<R> {
  private readonly exact = new Map<string, GrpcEntryInput<R>[]>();
  private readonly byService = new Map<string, GrpcEntryInput<R>[]>();
  private readonly byMethod = new Map<string, GrpcEntryInput<R>[]>();
  private readonly any: GrpcEntryInput<R>[] = [];

  add(e: GrpcEntryInput<R>): void {
    const put = (m: Map<string, GrpcEntryInput<R>[]>, k: string) => {
      const l = m.get(k);
      if (l) l.push(e);
      else m.set(k, [e]);
    };
    if (e.service && e.method) put(this.exact, `${e.service}/${e.method}`);
    else if (e.service) put(this.byService, e.service);
    else if (e.method) put(this.byMethod, e.method);
    else this.any.push(e);
  }

  finalize(): this {
    for (const m of [this.exact, this.byService, this.byMethod]) for (const l of m.values()) l.sort(order);
    this.any.sort(order);
    return this;
  }

  /** `path` is the gRPC request path `/package.Service/Method`. */
  match(path: string, req: MatchRequest): RouteHit<R> | undefined {
    const slash = path.indexOf('/', 1);
    const service = slash === -1 ? path.slice(1) : path.slice(1, slash);
    const method = slash === -1 ? '' : path.slice(slash + 1);
    for (const list of [this.exact.get(`${service}/${method}`), this.byService.get(service), this.byMethod.get(method), this.any]) {
      if (!list) continue;
      for (const e of list) if (headersHold(e, req)) return { rule: e.rule, matchIndex: e.matchIndex };
    }
    return undefined;
  }
}
