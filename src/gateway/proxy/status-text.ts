// Gateway-made responses: `<status> <reason phrase>: <why>` as text/plain (DECISIONS.md §14).
import { STATUS_CODES } from 'node:http';

export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Unknown';
}

export function errorBodyText(status: number, why: string): string {
  return `${status} ${reasonPhrase(status)}: ${why}\n`;
}

/** Gateway status names for the access log's `errors[]` (operations.md §5.2, plus ours). */
export const GatewayError = {
  HostMissing: 'HostMissing',
  XffHeaderTooLong: 'XffHeaderTooLong',
  RouteNotFound: 'RouteNotFound',
  NoListener: 'ListenerNotFound',
  BadRequest: 'BadRequest',
  HeaderTooLarge: 'RequestHeaderTooLarge',
  RequestTimeout: 'RequestTimeout',
  BackendUnresolved: 'BackendUnresolved',
  BackendNoEndpoint: 'BackendEndpointNotFound',
  UpstreamConnectFailed: 'UpstreamConnectFailed',
  UpstreamTimeout: 'UpstreamTimeout',
  UpstreamError: 'UpstreamError',
  RequestDeadline: 'RequestTimeoutExceeded',
  ClientClosed: 'ClientClosed',
  PluginError: 'PluginError',
  PluginMissing: 'PluginMissing',
  Internal: 'Internal',
  ShuttingDown: 'ShuttingDown',
} as const;
