// Status conditions as the Gateway API writes them: type, status, reason, message,
// lastTransitionTime (kept while the status does not flip) and observedGeneration.

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

export class ConditionBuilder {
  constructor(
    private readonly now: string,
    private readonly generation: number,
    private readonly previous: readonly Condition[] | undefined,
  ) {}

  make(type: string, ok: boolean, reason: string, message: string): Condition {
    const status = ok ? 'True' : 'False';
    const prev = this.previous?.find((c) => c.type === type);
    return {
      type,
      status,
      reason,
      message,
      lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : this.now,
      observedGeneration: this.generation,
    };
  }
}

export function conditionsOf(status: unknown): Condition[] | undefined {
  const c = (status as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(c) ? (c as Condition[]) : undefined;
}
