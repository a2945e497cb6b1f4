// `edgion-ctl apply`: send resource files to the controller in one request, print one
// line per resource with its diagnostics, optionally wait until the gateway runs the
// new configuration.

import { formatDiagnostic, refString } from '../shared/diagnostics.js';
import type { ControllerApi, GatewayApi } from './admin-client.js';
import type { ApplyResultItem } from './admin-types.js';
import { cliError } from './errors.js';
import { readManifests, toApplyBody } from './manifests.js';
import type { Output } from './output.js';
import { attemptReachable, poll } from './wait.js';

export interface ApplyOptions {
  files: readonly string[];
  recursive: boolean;
  dryRun: boolean;
  wait: boolean;
  timeoutSeconds: number;
}

/** The `--json` result of `apply`. */
export interface ApplyResult {
  dryRun: boolean;
  results: ApplyResultItem[];
  /** The controller's snapshot version after the apply (null if it did not say). */
  snapshotVersion: number | null;
  /** Set with --wait: the configuration version the gateway runs and how long that took. */
  gateway: { configVersion: number; waitedMs: number } | null;
}

export interface ApplyDeps {
  controller: ControllerApi;
  /** Only called with --wait, so a plain apply never needs the gateway. */
  gateway: () => Promise<GatewayApi>;
  out: Output;
  readStdin?: () => Promise<string>;
}

export async function applyFiles(deps: ApplyDeps, options: ApplyOptions): Promise<ApplyResult> {
  const { out } = deps;
  const manifests = await readManifests(options.files, options.recursive, deps.readStdin);
  if (manifests.diagnostics.length > 0) {
    for (const d of manifests.diagnostics) out.line(formatDiagnostic(d));
    throw cliError('invalidManifest', `${manifests.diagnostics.length} problem(s) in the files; nothing was applied`, {
      details: manifests.diagnostics,
    });
  }
  if (manifests.docs.length === 0) {
    throw cliError('invalidManifest', 'no resources found in the given files; nothing was applied', {
      details: { files: options.files },
    });
  }

  const response = await deps.controller.apply(toApplyBody(manifests.docs), options.dryRun);
  for (const line of formatApplyResults(response.results, options.dryRun)) out.line(line);

  const result: ApplyResult = {
    dryRun: options.dryRun,
    results: response.results,
    snapshotVersion: typeof response.snapshotVersion === 'number' ? response.snapshotVersion : null,
    gateway: null,
  };
  const rejected = response.results.filter((r) => r.action === 'rejected');
  if (rejected.length > 0 || response.status === 422) {
    const partialResult = { ...result };
    throw cliError('invalid', response.error?.message ?? `${rejected.length} of ${response.results.length} resources rejected`, {
      code: response.error?.code,
      details: response.error?.details ?? rejected,
      partialResult,
    });
  }

  if (options.wait && options.dryRun) {
    out.note('--dry-run: nothing changed, so there is nothing to wait for.');
  } else if (options.wait && result.snapshotVersion === null) {
    out.note('The controller did not report a snapshot version; cannot wait for the gateway.');
  } else if (options.wait && result.snapshotVersion !== null) {
    result.gateway = await waitForGatewayVersion(await deps.gateway(), result.snapshotVersion, options.timeoutSeconds, out);
    out.line(`gateway runs configuration v${result.gateway.configVersion} (waited ${(result.gateway.waitedMs / 1000).toFixed(1)}s)`);
  }
  return result;
}

/** `HTTPRoute acc/foo created`, then each diagnostic indented under it. */
export function formatApplyResults(results: readonly ApplyResultItem[], dryRun: boolean): string[] {
  const lines: string[] = [];
  for (const r of results) {
    const ref = refString({ kind: r.kind, namespace: r.namespace ?? undefined, name: r.name });
    lines.push(`${ref} ${r.action}${dryRun || r.dryRun ? ' (dry run)' : ''}`);
    for (const d of r.diagnostics ?? []) lines.push(`  ${formatDiagnostic(d)}`);
  }
  return lines;
}

/** Polls the gateway's /api/v1/status until it runs `version` or newer. */
export async function waitForGatewayVersion(
  gateway: GatewayApi,
  version: number,
  timeoutSeconds: number,
  out: Output,
): Promise<{ configVersion: number; waitedMs: number }> {
  const outcome = await poll(
    () =>
      attemptReachable(async () => {
        const status = await gateway.status();
        const current = status.config?.version;
        if (typeof current === 'number' && current >= version) return { done: true, value: current };
        return { done: false, reason: `the gateway runs configuration ${typeof current === 'number' ? `v${current}` : '(none yet)'}` };
      }),
    {
      timeoutMs: timeoutSeconds * 1000,
      onProgress: (s) => out.note(`waiting for the gateway to apply configuration v${version} (${s}s)...`),
    },
  );
  if (outcome.done) return { configVersion: outcome.value, waitedMs: outcome.elapsedMs };
  if (outcome.lastError) {
    throw cliError('unreachable', `${outcome.lastError.message}; waited ${timeoutSeconds}s for configuration v${version}`, {
      hint: outcome.lastError.hint,
      details: { snapshotVersion: version },
    });
  }
  throw cliError('waitTimeout', `the gateway did not apply configuration v${version} within ${timeoutSeconds}s (${outcome.reason})`, {
    details: { snapshotVersion: version },
  });
}
