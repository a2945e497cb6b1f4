// Security plugins (plugins.md §4). Each plugin is one file with its schema.
import type { PluginDefinition } from '../../runtime/define-plugin.js';
import { Cors } from './cors.js';
import { Csrf } from './csrf.js';
import { IpRestriction } from './ip-restriction.js';
import { OpenidConnect } from './openid-connect.js';
import { RequestRestriction } from './request-restriction.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const SECURITY_PLUGINS: readonly PluginDefinition<any>[] = [Cors, Csrf, IpRestriction, OpenidConnect, RequestRestriction];
