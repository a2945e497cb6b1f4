// Utility plugins (plugins.md §4). Each plugin is one file with its schema.
import type { PluginDefinition } from '../../runtime/define-plugin.js';
import { Mock } from './mock.js';
import { RequestHeaderModifierPlugin, ResponseHeaderModifierPlugin } from './header-modifiers.js';
import { ExtensionRefPlugin } from './extension-ref.js';
import { RequestRedirectPlugin } from './request-redirect.js';
import { UrlRewritePlugin } from './url-rewrite.js';
import { RealIp } from './real-ip.js';
import { CtxSet } from './ctx-set.js';
import { DebugAccessLogToHeader } from './debug-access-log-to-header.js';
import { Dsl } from './dsl.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const UTILITY_PLUGINS: readonly PluginDefinition<any>[] = [
  Mock,
  RequestHeaderModifierPlugin,
  ResponseHeaderModifierPlugin,
  ExtensionRefPlugin,
  RequestRedirectPlugin,
  UrlRewritePlugin,
  RealIp,
  CtxSet,
  DebugAccessLogToHeader,
  Dsl,
];
