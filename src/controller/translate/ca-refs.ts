// CA certificate references (`caCertificateRefs`) as the Gateway API uses them in BackendTLSPolicy
// and in Gateway `spec.tls.frontend`: a core ConfigMap (Core support) or Secret (Edgion) holding
// PEM certificates under `ca.crt`.

import type { Obj, TranslateContext } from './context.js';
import { secretData, secretMissing } from './secrets.js';
import { checkCaBundle } from './certificates.js';

export type CaRefResult = { pem: string } | { problem: 'kind' | 'ref'; message: string };

/** The PEM bundle a caCertificateRef names (in namespace `ns`), or why it is not usable. */
export function resolveCaRef(ctx: TranslateContext, ns: string, ref: Obj): CaRefResult {
  const group = String(ref.group ?? '');
  const kind = String(ref.kind ?? '');
  const name = String(ref.name ?? '');
  if ((group !== '' && group !== 'core') || (kind !== 'ConfigMap' && kind !== 'Secret')) {
    return { problem: 'kind', message: `${group ? `${group}/` : ''}${kind} ${name} is not a supported kind (a core ConfigMap or Secret with ca.crt)` };
  }
  let pem: unknown;
  if (kind === 'Secret') {
    const data = secretData(ctx, ns, name);
    if (!data) return { problem: 'ref', message: secretMissing(ctx, ns, name) };
    pem = data['ca.crt'];
  } else {
    const cm = ctx.get('ConfigMap', ns, name);
    if (!cm) {
      const rejected = ctx.input.rejected?.find((r) => r.kind === 'ConfigMap' && r.namespace === ns && r.name === name);
      return { problem: 'ref', message: rejected ? `ConfigMap ${ns}/${name} is rejected: ${rejected.reason}` : `ConfigMap ${ns}/${name} does not exist` };
    }
    pem = (cm.obj.data as Obj | undefined)?.['ca.crt'];
  }
  if (typeof pem !== 'string' || pem.trim() === '') return { problem: 'ref', message: `${kind} ${ns}/${name} has no ca.crt` };
  const bad = checkCaBundle(pem);
  if (bad) return { problem: 'ref', message: `${kind} ${ns}/${name}: ${bad}` };
  return { pem };
}
