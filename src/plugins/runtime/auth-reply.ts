// Authentication failures (plugins.md §3.1): status, `WWW-Authenticate: <Scheme> realm="<realm>"`,
// text/plain body `<status> <message>`, optionally after `authFailureDelayMs`.

import type { PluginReply } from './define-plugin.js';

export function authFailure(scheme: string, realm: string, message: string, status = 401, error = 'AuthFailed'): PluginReply {
  return {
    status,
    headers: { 'www-authenticate': `${scheme} realm="${realm.replace(/"/g, '\\"')}"`, 'content-type': 'text/plain; charset=utf-8' },
    body: `${status} ${message}`,
    error,
  };
}

/** Resolves after `ms` (0 = at once): slows down credential guessing. */
export function delayed<T>(ms: number, value: T): Promise<T> | T {
  if (!ms || ms <= 0) return value;
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref?.());
}

/** Consumer headers shared by the auth plugins (DECISIONS.md §28). */
export const CONSUMER = {
  username: 'x-consumer-username',
  anonymous: 'x-anonymous-consumer',
} as const;
