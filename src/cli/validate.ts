// `edgion-ctl validate` and `translate`: the controller's checks and translation run locally on
// files, without a running controller. For CI pipelines and pre-commit checks.

import fs from 'node:fs';
import { stringify } from 'yaml';
import { runOffline, type OfflineResult } from '../controller/offline.js';
import { formatDiagnostic } from '../shared/diagnostics.js';
import { cliError } from './errors.js';
import type { Output } from './output.js';

export interface ValidateResult {
  files: number;
  resources: number;
  errors: number;
  warnings: number;
  rejected: OfflineResult['rejected'];
  diagnostics: OfflineResult['diagnostics'];
}

function load(target: string): OfflineResult {
  if (!fs.existsSync(target)) throw cliError('pathNotFound', `${target} does not exist`);
  return runOffline(target);
}

export function validate(target: string, out: Output): ValidateResult {
  const r = load(target);
  const errors = r.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = r.diagnostics.length - errors;
  for (const d of r.diagnostics) out.line(formatDiagnostic(d));
  out.line(`${r.files} files, ${r.resources} resources: ${errors} errors, ${warnings} warnings${errors ? '' : ' — valid'}`);
  const result: ValidateResult = { files: r.files, resources: r.resources, errors, warnings, rejected: r.rejected, diagnostics: r.diagnostics };
  if (errors) throw cliError('invalid', `${errors} problems in ${target}`, { details: result });
  return result;
}

export function translateFiles(target: string, format: 'yaml' | 'json', out: Output): OfflineResult['snapshot'] {
  const r = load(target);
  for (const d of r.diagnostics) out.note(formatDiagnostic(d));
  out.line(format === 'json' ? JSON.stringify(r.snapshot, null, 2) : stringify(r.snapshot, { lineWidth: 0 }));
  return r.snapshot;
}
