// The Gateway API conformance features this implementation supports, as GatewayClass
// `status.supportedFeatures` lists them (Gateway API v1.4). This is the one place the list lives:
// README.md's "Gateway API support" table marks the same names `supported`, and a unit test
// (test/unit/controller/supported-features.test.ts) fails when the two disagree.

export const SUPPORTED_FEATURES: readonly string[] = [
  'BackendTLSPolicy',
  'BackendTLSPolicySANValidation',
  'GRPCRoute',
  'GRPCRouteNamedRouteRule',
  'Gateway',
  'GatewayFrontendClientCertificateValidation',
  'GatewayFrontendClientCertificateValidationInsecureFallback',
  'GatewayHTTPListenerIsolation',
  'GatewayHTTPSListenerDetectMisdirectedRequests',
  'GatewayPort8080',
  'HTTPRoute',
  'HTTPRouteBackendProtocolH2C',
  'HTTPRouteBackendProtocolWebSocket',
  'HTTPRouteBackendRequestHeaderModification',
  'HTTPRouteBackendTimeout',
  'HTTPRouteCORS',
  'HTTPRouteHostRewrite',
  'HTTPRouteMethodMatching',
  'HTTPRouteNamedRouteRule',
  'HTTPRouteParentRefPort',
  'HTTPRoutePathRedirect',
  'HTTPRoutePathRewrite',
  'HTTPRoutePortRedirect',
  'HTTPRouteQueryParamMatching',
  'HTTPRouteRequestMirror',
  'HTTPRouteRequestMultipleMirrors',
  'HTTPRouteRequestPercentageMirror',
  'HTTPRouteRequestTimeout',
  'HTTPRouteResponseHeaderModification',
  'HTTPRouteSchemeRedirect',
  'HTTPRouteSessionPersistence',
  'ReferenceGrant',
  'TLSRoute',
];

/** `status.supportedFeatures` of our GatewayClasses: `{name}` objects sorted by name (v1.4 schema). */
export function supportedFeatures(): { name: string }[] {
  return [...new Set(SUPPORTED_FEATURES)].sort().map((name) => ({ name }));
}
