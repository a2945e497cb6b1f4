// The JSON shapes of the controller and gateway admin APIs, as edgion-ctl reads them.
// Fields are optional where a missing field must not break the CLI: the CLI prints
// what it gets and never crashes on a field the server did not send.

import type { Diagnostic } from '../shared/diagnostics.js';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface ResourceMetadata {
  name?: string;
  namespace?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** Any Kubernetes-style resource, with the parts the CLI looks at spelled out. */
export interface Resource {
  apiVersion?: string;
  kind?: string;
  metadata?: ResourceMetadata;
  spec?: Record<string, unknown>;
  status?: {
    conditions?: Condition[];
    parents?: Array<{ parentRef?: Record<string, unknown>; controllerName?: string; conditions?: Condition[] }>;
    listeners?: Array<{ name?: string; conditions?: Condition[]; attachedRoutes?: number }>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface ResourceList {
  items: Resource[];
}

export interface ApiErrorBody {
  error: { code?: string; message?: string; details?: unknown };
}

export type ApplyAction = 'created' | 'updated' | 'unchanged' | 'rejected';

export interface ApplyResultItem {
  kind: string;
  namespace?: string | null;
  name: string;
  action: ApplyAction;
  dryRun?: boolean;
  file?: string;
  diagnostics?: Diagnostic[];
}

export interface ApplyResponse {
  results: ApplyResultItem[];
  snapshotVersion?: number;
}

export interface DeleteResponse {
  deleted: { kind: string; namespace?: string | null; name: string };
  snapshotVersion?: number;
}

export interface ControllerStatus {
  controller?: { version?: string; pid?: number; startedAt?: string; confDir?: string; mode?: string };
  snapshot?: { version?: number; generatedAt?: string };
  gateways?: Array<{ id?: string; name?: string; pid?: number; connectedAt?: string; ackedVersion?: number }>;
  resources?: {
    total?: number;
    byKind?: Record<string, number>;
    rejected?: Array<{ kind: string; namespace?: string | null; name: string; reasons?: string[] }>;
  };
  diagnostics?: Diagnostic[];
}

export interface GatewayListenerStatus {
  port?: number;
  address?: string;
  protocol?: string;
  gateways?: string[];
  bound?: boolean;
  error?: string | null;
}

export interface GatewayStatus {
  gateway?: { version?: string; pid?: number; startedAt?: string; workers?: number };
  ready?: boolean;
  controller?: { address?: string; connected?: boolean };
  config?: { version?: number; appliedAt?: string };
  listeners?: GatewayListenerStatus[];
  requests?: { total?: number; inFlight?: number };
}
