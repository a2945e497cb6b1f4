// Plugins the gateway engine runs itself (they need more than a PluginSession).
import type { PluginDefinition } from '../../runtime/define-plugin.js';
import { RequestMirrorPlugin } from './request-mirror.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const ENGINE_PLUGINS: readonly PluginDefinition<any>[] = [RequestMirrorPlugin];
