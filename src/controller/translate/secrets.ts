// Secrets are normalised the way every reader expects: `data` (base64) decoded, `stringData`
// (plain text) laid over it (resources.md §1.2). Secrets never reach gateways as objects; the
// values are copied into the structures that need them.

import type { Obj, TranslateContext } from './context.js';

export function secretBytes(ctx: TranslateContext, namespace: string, name: string): Record<string, Buffer> | undefined {
  const s = ctx.get('Secret', namespace, name);
  if (!s) return undefined;
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries((s.obj.data ?? {}) as Obj)) {
    if (typeof v === 'string') out[k] = Buffer.from(v, 'base64');
  }
  for (const [k, v] of Object.entries((s.obj.stringData ?? {}) as Obj)) {
    if (typeof v === 'string') out[k] = Buffer.from(v, 'utf8');
  }
  return out;
}

export function secretData(ctx: TranslateContext, namespace: string, name: string): Record<string, string> | undefined {
  const raw = secretBytes(ctx, namespace, name);
  if (!raw) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) out[k] = v.toString('utf8');
  return out;
}

/** Why a referenced Secret is not usable: rejected (with the reason) or absent. */
export function secretMissing(ctx: TranslateContext, namespace: string, name: string): string {
  const rejected = ctx.input.rejected?.find((r) => r.kind === 'Secret' && r.namespace === namespace && r.name === name);
  return rejected ? `Secret ${namespace}/${name} is rejected: ${rejected.reason}` : `Secret ${namespace}/${name} does not exist`;
}
