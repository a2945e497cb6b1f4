// SecureContexts for TLS handshakes, built once per distinct certificate + TLS policy (versions,
// ciphers, client-auth CA) and kept across snapshots while their content is unchanged. A reload
// that changes a certificate builds a new context for new handshakes; open connections keep theirs.

import tls from 'node:tls';
import type { L4Runtime, TlsPolicy } from '../stream/compile-l4.js';

export class CertStore {
  private readonly contexts = new Map<string, tls.SecureContext>();
  /** Policies whose context could not be built (logged once). */
  readonly failures = new Map<string, string>();

  /** The context for a policy; undefined when OpenSSL refuses it (the handshake then fails). */
  contextFor(policy: TlsPolicy): tls.SecureContext | undefined {
    const cur = this.contexts.get(policy.contextKey);
    if (cur !== undefined) return cur;
    if (this.failures.has(policy.contextKey)) return undefined;
    try {
      const ctx = tls.createSecureContext({
        cert: policy.bundle.certPem,
        key: policy.bundle.keyPem,
        ...(policy.minVersion ? { minVersion: policy.minVersion } : {}),
        ...(policy.maxVersion ? { maxVersion: policy.maxVersion } : {}),
        ...(policy.ciphers ? { ciphers: policy.ciphers } : {}),
        ...(policy.clientAuth ? { ca: policy.clientAuth.caPem } : {}),
        // Session resumption must not skip the client-certificate checks of another policy.
        sessionIdContext: policy.contextKey.slice(0, 32),
      });
      this.contexts.set(policy.contextKey, ctx);
      return ctx;
    } catch (err) {
      this.failures.set(policy.contextKey, (err as Error).message);
      return undefined;
    }
  }

  /** Drops contexts no TLS port of `l4` uses any more. */
  retain(l4: L4Runtime): void {
    const live = new Set<string>();
    for (const port of l4.tlsPorts.values()) {
      for (const p of port.edgionExact.values()) live.add(p.contextKey);
      for (const w of port.edgionWildcards) live.add(w.policy.contextKey);
      for (const l of port.listeners.values()) {
        for (const p of l.policies) live.add(p.contextKey);
        for (const p of l.inherited.values()) live.add(p.contextKey);
      }
    }
    for (const key of this.contexts.keys()) if (!live.has(key)) this.contexts.delete(key);
    for (const key of this.failures.keys()) if (!live.has(key)) this.failures.delete(key);
  }

  get size(): number {
    return this.contexts.size;
  }
}
