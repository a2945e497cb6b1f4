// EdgionAcme → status (tls.md §7.2) and the HTTP-01 challenges the gateways answer. The ACME work
// itself (orders, challenges, renewals) runs in the controller's ACME service; its state comes in
// through the translation input, so this stays a pure function.

import type { AcmeChallengeIR } from '../../ir/index.js';
import { nsName, type Obj, type TranslateContext } from './context.js';

export function translateAcme(ctx: TranslateContext): AcmeChallengeIR[] {
  const challenges: AcmeChallengeIR[] = [];
  const nowSec = Math.floor(ctx.input.now.getTime() / 1000);
  for (const a of ctx.all('EdgionAcme')) {
    const spec = (a.obj.spec ?? {}) as Obj;
    const key = nsName(a);
    const state = ctx.input.acme?.get(key);
    const ref = ((spec.challenge as Obj | undefined)?.http01 as Obj | undefined)?.gatewayRef as Obj | undefined;
    const gateway = ref?.name ? `${String(ref.namespace ?? a.namespace ?? 'default')}/${String(ref.name)}` : undefined;
    for (const ch of state?.challenges ?? []) {
      if (ch.expireAt < nowSec) continue;
      challenges.push({ acme: key, domain: ch.domain.toLowerCase(), token: ch.token, keyAuthorization: ch.keyAuthorization, expireAt: ch.expireAt, ...(gateway ? { gateway } : {}) });
    }
    const c = ctx.conditions(a);
    const phase = state?.phase ?? 'Pending';
    const ready = phase === 'Ready' || phase === 'Renewing';
    const message = state?.message ?? (ctx.input.acme ? 'waiting for the ACME service' : 'no ACME service runs in this controller');
    const { challenges: _c, message: _m, ...rest } = state ?? { challenges: [] };
    ctx.statuses.set(a.key, {
      ...rest,
      phase,
      conditions: [c.make('Accepted', true, 'Accepted', 'EdgionAcme accepted'), c.make('Ready', ready, ready ? 'Ready' : phase, ready ? `certificate valid until ${state?.certificateNotAfter ?? '?'}` : message)],
    });
  }
  return challenges;
}
