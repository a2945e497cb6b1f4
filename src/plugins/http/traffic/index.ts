// traffic plugins (plugins.md §4). Each plugin is one file with its schema.
import type { PluginDefinition } from '../../runtime/define-plugin.js';
import { RateLimit } from './rate-limit.js';
import { RateLimitRedis } from './rate-limit-redis.js';
import { ProxyRewrite } from './proxy-rewrite.js';
import { ResponseRewrite } from './response-rewrite.js';
import { BandwidthLimit } from './bandwidth-limit.js';
import { DirectEndpoint } from './direct-endpoint.js';
import { DynamicInternalUpstream } from './dynamic-internal-upstream.js';
import { DynamicExternalUpstream } from './dynamic-external-upstream.js';
import { AllEndpointStatus } from './all-endpoint-status.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const TRAFFIC_PLUGINS: readonly PluginDefinition<any>[] = [
  RateLimit,
  RateLimitRedis,
  ProxyRewrite,
  ResponseRewrite,
  BandwidthLimit,
  DirectEndpoint,
  DynamicInternalUpstream,
  DynamicExternalUpstream,
  AllEndpointStatus,
];
