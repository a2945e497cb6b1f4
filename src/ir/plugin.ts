// EdgionPlugins and EdgionStreamPlugins as validated by the controller. `config` is the plugin's
// own configuration (shape defined by the plugin's schema) with Secrets already resolved.

export const PLUGIN_STAGES = [
  'requestPlugins',
  'upstreamResponseFilterPlugins',
  'upstreamResponsePlugins',
  'upstreamResponseBodyFilterPlugins',
] as const;

export type PluginStage = (typeof PLUGIN_STAGES)[number];

export interface PluginEntryIR {
  type: string;
  enable: boolean;
  config: unknown;
  conditions?: unknown;
  /** Secrets the plugin asked for, resolved: secretKey (`ns/name`) → decoded data. */
  secrets?: Record<string, Record<string, string>>;
  /** RequestMirror: the mirror target resolved by the controller (cluster key in Snapshot.clusters). */
  mirror?: import('./route.js').RequestMirrorIR;
  /** The secret values that are not valid UTF-8 (binary keys), base64: secretKey → key → base64. */
  secretsBinary?: Record<string, Record<string, string>>;
}

export interface PluginSetIR {
  key: string;
  namespace: string;
  name: string;
  /** False when the resource never had a valid version: routes using it fail closed (500). */
  valid: boolean;
  error?: string;
  requestPlugins: PluginEntryIR[];
  upstreamResponseFilterPlugins: PluginEntryIR[];
  upstreamResponsePlugins: PluginEntryIR[];
  upstreamResponseBodyFilterPlugins: PluginEntryIR[];
}

export interface StreamPluginSetIR {
  key: string;
  namespace: string;
  name: string;
  valid: boolean;
  error?: string;
  plugins: PluginEntryIR[];
  tlsRoutePlugins: PluginEntryIR[];
}
