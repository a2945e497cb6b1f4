// Hostname intersection between a listener and a route (resources.md §6.2, Gateway API rules).

/** Does `pattern` (exact or `*.suffix`) cover `host` (exact)? A wildcard needs at least one more label. */
export function wildcardCovers(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const suffix = pattern.slice(1);
  return host.length > suffix.length && host.endsWith(suffix);
}

/** Intersection of one route hostname with one listener hostname, or undefined. */
export function intersectOne(route: string, listener: string): string | undefined {
  const rw = route.startsWith('*.');
  const lw = listener.startsWith('*.');
  if (!rw && !lw) return route === listener ? route : undefined;
  if (lw && !rw) return wildcardCovers(listener, route) ? route : undefined;
  if (rw && !lw) return wildcardCovers(route, listener) ? listener : undefined;
  // both wildcards: the more specific one, when one covers the other
  if (route === listener) return route;
  if (route.endsWith(listener.slice(1))) return route;
  if (listener.endsWith(route.slice(1))) return listener;
  return undefined;
}

/**
 * Effective hostnames of a route on a listener: `['*']` = any host; `[]` = no intersection.
 * Route hostnames are lower-cased by the caller.
 */
export function effectiveHostnames(listenerHostname: string | undefined, routeHostnames: readonly string[]): string[] {
  if (routeHostnames.length === 0) return listenerHostname ? [listenerHostname] : ['*'];
  if (!listenerHostname) return [...new Set(routeHostnames)];
  const out = new Set<string>();
  for (const r of routeHostnames) {
    const i = intersectOne(r, listenerHostname);
    if (i !== undefined) out.add(i);
  }
  return [...out];
}
