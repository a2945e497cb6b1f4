// Every built-in plugin type, by name, and the validation the controller runs on EdgionPlugins
// entries: the type exists and runs in that stage, its config matches the plugin's schema
// (defaults applied), its conditions are well formed, and its own semantic checks pass.

import type { ValidateFunction } from 'ajv';
import { createAjv } from '../api/ajv-setup.js';
import { schemaDiagnostics } from '../api/schema-errors.js';
import type { PluginStage } from '../ir/plugin.js';
import { AUTH_PLUGINS } from './http/auth/index.js';
import { SECURITY_PLUGINS } from './http/security/index.js';
import { TRAFFIC_PLUGINS } from './http/traffic/index.js';
import { UTILITY_PLUGINS } from './http/utility/index.js';
import { ENGINE_PLUGINS } from './http/engine/index.js';
import type { PluginDefinition, PluginProblem, SecretRefSpec } from './runtime/define-plugin.js';
import { unknownFields } from './unknown-fields.js';
import { conditionProblems, ConditionsSchema, type Conditions } from './runtime/conditions.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPlugin = PluginDefinition<any>;

export class PluginRegistry {
  private readonly byType = new Map<string, AnyPlugin>();
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv = createAjv();
  private conditionsValidator: ValidateFunction | undefined;

  constructor(defs: readonly AnyPlugin[]) {
    for (const d of defs) {
      if (this.byType.has(d.type)) throw new Error(`plugin type ${d.type} is registered twice`);
      this.byType.set(d.type, d);
    }
  }

  get(type: string): AnyPlugin | undefined {
    return this.byType.get(type);
  }

  types(): string[] {
    return [...this.byType.keys()].sort();
  }

  private validatorFor(def: AnyPlugin): ValidateFunction {
    let v = this.validators.get(def.type);
    if (!v) {
      v = this.ajv.compile(def.schema as object);
      this.validators.set(def.type, v);
    }
    return v;
  }

  /**
   * Validates one entry of a stage list. `config` is replaced by its validated copy (defaults
   * applied) in the returned value. Paths in problems are relative to the entry (`config.x`).
   */
  validateEntry(stage: PluginStage, entry: Record<string, unknown>): { problems: PluginProblem[]; config: unknown } {
    const type = String(entry.type ?? '');
    const def = this.byType.get(type);
    if (!def) {
      const known = this.types();
      const close = known.find((k) => k.toLowerCase() === type.toLowerCase());
      return { problems: [{ path: 'type', message: close ? `unknown plugin type "${type}" (did you mean "${close}"?)` : `unknown plugin type "${type}"` }], config: entry.config };
    }
    const problems: PluginProblem[] = [];
    if (!def.stages.includes(stage)) {
      problems.push({ path: 'type', message: `${type} does not run in ${stage} (it runs in ${def.stages.join(', ')})` });
    }
    const config = structuredClone(entry.config ?? {});
    const validate = this.validatorFor(def);
    if (!validate(config)) {
      for (const d of schemaDiagnostics(validate.errors ?? [], config)) problems.push({ path: d.path ? `config.${d.path}` : 'config', message: d.message });
      return { problems, config };
    }
    for (const p of def.validate?.(config as never) ?? []) problems.push({ ...p, path: p.path ? `config.${p.path}` : 'config' });
    for (const f of unknownFields(def.schema as never, entry.config ?? {})) {
      problems.push({ path: `config.${f}`, message: `unknown field "${f.replace(/^.*[.\]]/, '')}" is ignored`, severity: 'warning' });
    }
    if (entry.conditions !== undefined) {
      this.conditionsValidator ??= this.ajv.compile(ConditionsSchema as object);
      if (!this.conditionsValidator(entry.conditions)) {
        for (const d of schemaDiagnostics(this.conditionsValidator.errors ?? [], entry.conditions)) problems.push({ path: d.path ? `conditions.${d.path}` : 'conditions', message: d.message });
      } else {
        problems.push(...conditionProblems(entry.conditions as Conditions, 'conditions'));
      }
    }
    return { problems, config };
  }

  secretRefs(type: string, config: unknown): SecretRefSpec[] {
    return this.byType.get(type)?.secretRefs?.(config as never) ?? [];
  }

  linkSysRefs(type: string, config: unknown): string[] {
    return this.byType.get(type)?.linkSysRefs?.(config as never) ?? [];
  }
}

/** All built-in HTTP plugins. */
export const BUILTIN_PLUGINS: readonly AnyPlugin[] = [...AUTH_PLUGINS, ...SECURITY_PLUGINS, ...TRAFFIC_PLUGINS, ...UTILITY_PLUGINS, ...ENGINE_PLUGINS];

export function builtinRegistry(): PluginRegistry {
  return new PluginRegistry(BUILTIN_PLUGINS);
}
