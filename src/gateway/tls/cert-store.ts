// Certificates for TLS listeners: SecureContexts built once per certificate (and kept across
// snapshots while the PEM is unchanged), chosen per handshake by SNI: the listener that owns the
// name on that port, then its certificate whose names match (exact, then wildcard), else its first.

import tls from 'node:tls';
import type { TlsBundleIR } from '../../ir/index.js';
import type { GatewayRuntime } from '../compile/runtime.js';
import { hostnameMatches } from '../routing/host-index.js';

export class CertStore {
  private readonly contexts = new Map<string, { pem: string; ctx: tls.SecureContext }>();

  contextFor(bundle: TlsBundleIR): tls.SecureContext {
    const cur = this.contexts.get(bundle.key);
    const pem = bundle.certPem + bundle.keyPem;
    if (cur && cur.pem === pem) return cur.ctx;
    const ctx = tls.createSecureContext({ cert: bundle.certPem, key: bundle.keyPem });
    this.contexts.set(bundle.key, { pem, ctx });
    return ctx;
  }

  /** The certificate to present on `port` for `servername` (undefined = refuse the handshake). */
  select(runtime: GatewayRuntime, port: number, servername: string | undefined): tls.SecureContext | undefined {
    const pr = runtime.httpPorts.get(port);
    if (!pr) return undefined;
    const name = servername?.toLowerCase() ?? pr.connection.fallbackSni;
    const listener = name ? pr.listeners.lookup(name) : pr.listeners.values()[0];
    const keys = listener?.listener.tls?.certificates ?? [];
    const bundles = keys.map((k) => runtime.snapshot.tlsBundles[k]).filter((b): b is TlsBundleIR => b !== undefined);
    if (bundles.length === 0) return undefined;
    const pick =
      (name && bundles.find((b) => b.names.includes(name))) ||
      (name && bundles.find((b) => b.names.some((n) => n.startsWith('*.') && hostnameMatches(n, name)))) ||
      bundles[0]!;
    return this.contextFor(pick);
  }

  retain(runtime: GatewayRuntime): void {
    for (const key of this.contexts.keys()) if (!runtime.snapshot.tlsBundles[key]) this.contexts.delete(key);
  }
}
