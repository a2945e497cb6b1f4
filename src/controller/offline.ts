// The controller's pipeline run once on a folder, without watching or serving: what
// `edgion-ctl validate` and `edgion-ctl translate` use to check a configuration before deploying it.

import fs from 'node:fs';
import path from 'node:path';
import { SchemaValidator } from '../api/index.js';
import type { Snapshot } from '../ir/index.js';
import type { Diagnostic } from '../shared/diagnostics.js';
import { silentLogger } from '../shared/logger.js';
import { builtinRegistry } from '../plugins/registry.js';
import { Controller } from './controller.js';
import { FileSource } from './source/file-source.js';
import { pluginConfigValidator } from './validate/plugin-configs.js';

export interface OfflineResult {
  files: number;
  resources: number;
  rejected: { kind: string; namespace?: string; name: string; file?: string; line?: number; reasons: string[] }[];
  diagnostics: Diagnostic[];
  snapshot: Snapshot;
}

/** Loads `target` (a folder, or a single file) the way the controller would and translates it. */
export function runOffline(target: string): OfflineResult {
  const abs = path.resolve(target);
  const st = fs.statSync(abs);
  // A single file is loaded from a throw-away folder holding only it, so paths stay relative.
  let dir = abs;
  let cleanup: (() => void) | undefined;
  if (st.isFile()) {
    dir = fs.mkdtempSync(path.join(fs.realpathSync(path.dirname(abs)), '.edgion-validate-'));
    fs.copyFileSync(abs, path.join(dir, path.basename(abs)));
    cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  }
  try {
    const logger = silentLogger();
    const source = new FileSource({ dir, logger, onChange: () => undefined });
    source.rescan();
    const plugins = builtinRegistry();
    const controller = new Controller({ source, validator: new SchemaValidator(), logger, extraValidator: pluginConfigValidator(plugins), plugins });
    const snapshot = controller.reload('offline');
    return {
      files: source.files().length,
      resources: controller.store.all().length,
      rejected: controller.rejected().map((r) => ({
        kind: r.kind,
        ...(r.namespace ? { namespace: r.namespace } : {}),
        name: r.name,
        ...(r.source ? { file: r.source.file, line: r.source.line } : {}),
        reasons: r.diagnostics.filter((d) => d.severity === 'error').map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)),
      })),
      diagnostics: controller.allDiagnostics(),
      snapshot,
    };
  } finally {
    cleanup?.();
  }
}
