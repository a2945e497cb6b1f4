// A Gateway listener as the data plane needs it. Conflicted or invalid listeners are present
// (the admin API shows them) but `programmed: false`, and the gateway does not bind them.

export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';

export interface ListenerIR {
  name: string;
  port: number;
  protocol: ListenerProtocol;
  /** Lower-cased; exact or `*.suffix`; undefined = any host. */
  hostname?: string;
  programmed: boolean;
  /** Why it is not programmed (shown by admin APIs). */
  reason?: string;
  tls?: ListenerTlsIR;
}

export interface ListenerTlsIR {
  mode: 'Terminate' | 'Passthrough';
  /** Keys into Snapshot.tlsBundles, in certificateRefs order. */
  certificates: string[];
  /** `edgion.io/cert-provider: EdgionTls`: certificates come from EdgionTls resources. */
  fromEdgionTls: boolean;
  options: Record<string, string>;
  /** Client certificate validation of the Gateway (`spec.tls.frontend`, default or this port's). */
  clientAuth?: import('./tls.js').ClientAuthIR;
}
