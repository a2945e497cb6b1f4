// Certificates and per-domain TLS policy.

export interface TlsBundleIR {
  key: string;
  certPem: string;
  keyPem: string;
  caPem?: string;
  /** DNS names the certificate covers (SANs, else CN), lower-cased. */
  names: string[];
  notAfter?: string;
}

export interface ClientAuthIR {
  mode: 'Mutual' | 'Optional';
  caPem: string;
  verifyDepth: number;
  allowedSans: string[];
  allowedCns: string[];
}

export interface EdgionTlsIR {
  key: string;
  namespace: string;
  name: string;
  hosts: string[];
  bundle: string;
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  ciphers?: string;
  clientAuth?: ClientAuthIR;
  exposeClientCert: boolean;
  /** Gateway keys + listener names it attaches to (parentRefs); empty = all HTTPS listeners. */
  parents: { gateway: string; listener?: string }[];
}
