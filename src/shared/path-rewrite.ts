// Path rewriting and redirect locations with the Gateway API semantics (HTTPPathModifier,
// HTTPRequestRedirectFilter; DECISIONS.md §4, §5, §13). Pure functions shared by the gateway's
// route filters (RequestRedirect, URLRewrite) and the RequestRedirect / UrlRewrite plugins.

export type PathModifier = { type: 'ReplaceFullPath'; value: string } | { type: 'ReplacePrefixMatch'; value: string };

/** ReplacePrefixMatch swaps the matched prefix on segment boundaries and never yields `//`. */
export function rewritePath(path: string, modifier: PathModifier, matchedPrefix: string | undefined): string {
  if (modifier.type === 'ReplaceFullPath') return modifier.value;
  const prefix = matchedPrefix ?? '';
  let rest = path.slice(prefix.length);
  let replacement = modifier.value;
  if (replacement.endsWith('/') && rest.startsWith('/')) rest = rest.slice(1);
  else if (!replacement.endsWith('/') && rest !== '' && !rest.startsWith('/')) rest = '/' + rest;
  if (replacement === '/' && rest !== '') replacement = '';
  const out = replacement + rest;
  if (out === '') return '/';
  return out.startsWith('/') ? out : '/' + out;
}

/** Path and query for the upstream (URLRewrite): the query is kept unless the new path has its own. */
export function withQuery(path: string, query: string): string {
  return query && !path.includes('?') ? `${path}?${query}` : path;
}

export interface RedirectSpec {
  scheme?: string;
  hostname?: string;
  port?: number;
  path?: PathModifier;
}

export interface RedirectRequest {
  /** The scheme the client used (`http` / `https`). */
  scheme: string;
  /** Host without port; '' when unknown. */
  host: string;
  listenerPort: number;
  path: string;
  /** Raw query without `?`. */
  queryString: string;
  matchedPrefix: string | undefined;
}

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443 };

/**
 * The Location of a RequestRedirect. Scheme: the filter's, else the request's. Port: the filter's;
 * else the scheme's default when the filter names a scheme; else the listener's. The port is
 * omitted when it is the scheme's default. The query string is kept (DECISIONS §5).
 */
export function redirectLocation(f: RedirectSpec, req: RedirectRequest): string {
  const scheme = f.scheme ?? req.scheme;
  const host = f.hostname ?? (req.host || 'localhost');
  const port = f.port ?? (f.scheme ? DEFAULT_PORT[f.scheme] : req.listenerPort);
  const path = f.path ? rewritePath(req.path, f.path, req.matchedPrefix) : req.path;
  const portPart = port === undefined || port === DEFAULT_PORT[scheme] ? '' : `:${port}`;
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${scheme}://${hostPart}${portPart}${withQuery(path, req.queryString)}`;
}
