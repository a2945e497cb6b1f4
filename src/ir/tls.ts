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
  /**
   * `Mutual`: a verified client certificate is required; `Optional`: requested, verified when sent;
   * `InsecureFallback` (Gateway `AllowInsecureFallback`): requested, and the connection is accepted
   * without one or with one that does not verify (such a certificate is then not trusted).
   */
  mode: 'Mutual' | 'Optional' | 'InsecureFallback';
  caPem: string;
  /** Maximum chain depth (1 = the client certificate is issued directly by a trusted CA). */
  verifyDepth: number;
  /** Rendered SAN patterns (`DNS` names as-is, `IP:`, `email:`, `uri:`); exact or `*.domain`. */
  allowedSans: string[];
  allowedCns: string[];
}

export type TlsVersionIR = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface EdgionTlsIR {
  key: string;
  namespace: string;
  name: string;
  generation: number;
  /** Lower-cased, exact or `*.suffix`. */
  hosts: string[];
  /** Key into Snapshot.tlsBundles. */
  bundle: string;
  minVersion?: TlsVersionIR;
  maxVersion?: TlsVersionIR;
  /** OpenSSL cipher list (already checked by the controller). */
  ciphers?: string;
  clientAuth?: ClientAuthIR;
  exposeClientCert: boolean;
  /** Gateway keys + listener names it attaches to (parentRefs). */
  parents: { gateway: string; listener?: string }[];
  /** Listener ports the parentRefs resolve to: the certificate is offered on these ports only. */
  ports: number[];
}

/** An HTTP-01 challenge the gateways answer (written by the controller's ACME service). */
export interface AcmeChallengeIR {
  /** EdgionAcme `ns/name`. */
  acme: string;
  domain: string;
  token: string;
  keyAuthorization: string;
  /** Unix seconds. */
  expireAt: number;
  /** Gateway key (`ns/name`) whose HTTP listeners answer; undefined = every HTTP listener. */
  gateway?: string;
}
