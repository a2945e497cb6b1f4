// security plugins (plugins.md §4). Each plugin is one file with its schema.
import type { PluginDefinition } from '../../runtime/define-plugin.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const SECURITY_PLUGINS: readonly PluginDefinition<any>[] = [];
