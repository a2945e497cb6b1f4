// Schema validation of one resource, as the Kubernetes API server would do it: kind and
// apiVersion against the registry, nulls pruned and CRD defaults applied, then the kind's
// OpenAPI schema (ajv). CEL rules are a separate pass (cel-rules.ts).
// Each kind's validator is compiled on first use and cached in the SchemaValidator instance.

import type { Ajv, ValidateFunction } from 'ajv';
import type { Diagnostic, ResourceRef, SourceLocation } from '../shared/diagnostics.js';
import { createAjv } from './ajv-setup.js';
import { DiagnosticCodes } from './codes.js';
import { pruneAndDefault } from './defaults.js';
import type { AnyResource } from './generated/index.js';
import { KIND_NAMES, acceptedApiVersions, apiVersionOf, findKind, kindInfo, parseApiVersion, type KindInfo } from './kinds.js';
import { isPlainObject, toAjvSchema, type SchemaNode } from './openapi.js';
import { describeValue, schemaDiagnostics } from './schema-errors.js';
import { readSchemaFile, schemaFileFor } from './schema-store.js';

export interface SchemaValidatorOptions {
  /**
   * Fields a CRD schema does not list: 'ignore' (default; the data plane ignores them, as
   * reference/resources.md says) or 'warn' (a warning each, like kubectl's field validation).
   * Core kinds never warn: their schemas list only the fields the project reads.
   */
  unknownFields?: 'ignore' | 'warn';
  /** Validate `status` too (default false: the API server ignores status on create/update). */
  validateStatus?: boolean;
  /** Reads a schema file by name (default: the generated files next to this module). */
  readSchema?: (file: string) => SchemaNode;
}

export interface ValidateOptions {
  /** Attached to every diagnostic (file, document index, line). */
  location?: SourceLocation;
}

export type SchemaResult =
  | { ok: true; value: AnyResource; kind: KindInfo; diagnostics: Diagnostic[] }
  | { ok: false; value: unknown; kind?: KindInfo; diagnostics: Diagnostic[] };

interface Compiled {
  /** The translated schema: defaults.ts walks it. */
  schema: SchemaNode;
  validate: ValidateFunction;
}

/** kind, namespace and name when the resource has them, for diagnostics. */
export function resourceRefOf(resource: unknown): ResourceRef | undefined {
  if (!isPlainObject(resource) || typeof resource.kind !== 'string') return undefined;
  const meta = resource.metadata;
  if (!isPlainObject(meta) || typeof meta.name !== 'string' || meta.name === '') return undefined;
  return { kind: resource.kind, ...(typeof meta.namespace === 'string' && meta.namespace ? { namespace: meta.namespace } : {}), name: meta.name };
}

export class SchemaValidator {
  readonly #unknownFields: 'ignore' | 'warn';
  readonly #validateStatus: boolean;
  readonly #readSchema: (file: string) => SchemaNode;
  #ajv: Ajv | undefined;
  readonly #compiled = new Map<string, Compiled | Error>();

  constructor(options: SchemaValidatorOptions = {}) {
    this.#unknownFields = options.unknownFields ?? 'ignore';
    this.#validateStatus = options.validateStatus ?? false;
    this.#readSchema = options.readSchema ?? readSchemaFile;
  }

  get validatesStatus(): boolean {
    return this.#validateStatus;
  }

  /** Schema files compiled so far (each kind compiles on first use). */
  get compiledSchemas(): string[] {
    return [...this.#compiled.keys()];
  }

  /**
   * Validates one resource against its kind's schema. `value` is a copy of the input with
   * nulls pruned and CRD defaults applied; `ok` is true when no diagnostic is an error.
   */
  validateSchema(resource: unknown, options: ValidateOptions = {}): SchemaResult {
    const diagnostics: Diagnostic[] = [];
    const { info, version } = this.#checkHeader(resource, diagnostics);
    let value: unknown = resource;
    if (info) {
      const compiled = this.#compile(info, version);
      if (compiled instanceof Error) {
        diagnostics.push({ severity: 'error', code: DiagnosticCodes.internal, message: `cannot load the schema of ${info.kind}: ${compiled.message}` });
      } else {
        value = pruneAndDefault(resource, compiled.schema);
        if (!compiled.validate(value)) diagnostics.push(...schemaDiagnostics(compiled.validate.errors ?? [], value));
        this.#dropClusterNamespace(info, value, diagnostics);
      }
    }
    const result = finish(diagnostics, resourceRefOf(value), options.location);
    const ok = info !== undefined && !result.some((d) => d.severity === 'error');
    return ok ? { ok, value: value as AnyResource, kind: info, diagnostics: result } : { ok: false, value, ...(info ? { kind: info } : {}), diagnostics: result };
  }

  /** Compiles the given kinds now (for a warm start); returns the ones that failed. */
  precompile(kinds: readonly string[] = KIND_NAMES): Diagnostic[] {
    const out: Diagnostic[] = [];
    for (const k of kinds) {
      const info = kindInfo(k);
      if (!info) continue;
      for (const v of info.versions) {
        const c = this.#compile(info, v);
        if (c instanceof Error) out.push({ severity: 'error', code: DiagnosticCodes.internal, message: `cannot load the schema of ${k} ${v}: ${c.message}` });
      }
    }
    return out;
  }

  #checkHeader(resource: unknown, out: Diagnostic[]): { info?: KindInfo; version?: string } {
    if (!isPlainObject(resource)) {
      out.push({
        severity: 'error',
        code: DiagnosticCodes.notAResource,
        message: `a resource must be a mapping with apiVersion, kind and metadata (got ${describeValue(resource)})`,
      });
      return {};
    }
    const kind = resource.kind;
    if (kind === undefined || kind === null) {
      out.push({ severity: 'error', code: DiagnosticCodes.unknownKind, message: 'required field "kind" is missing' });
      return {};
    }
    if (typeof kind !== 'string') {
      out.push({ severity: 'error', code: DiagnosticCodes.unknownKind, path: 'kind', message: `must be a string (got ${describeValue(kind)})` });
      return {};
    }
    const info = kindInfo(kind);
    if (!info) {
      const guess = findKind(kind);
      const message = guess
        ? `unknown kind "${kind}" (did you mean ${guess.kind}?)`
        : `unknown kind "${kind}" (known kinds: ${KIND_NAMES.join(', ')})`;
      out.push({ severity: 'error', code: DiagnosticCodes.unknownKind, path: 'kind', message });
      return {};
    }
    const apiVersion = resource.apiVersion;
    if (apiVersion === undefined || apiVersion === null) {
      out.push({ severity: 'error', code: DiagnosticCodes.apiVersion, message: `required field "apiVersion" is missing (${info.kind} uses ${apiVersionOf(info)})` });
      return { info };
    }
    if (typeof apiVersion !== 'string') {
      out.push({ severity: 'error', code: DiagnosticCodes.apiVersion, path: 'apiVersion', message: `must be a string (got ${describeValue(apiVersion)})` });
      return { info };
    }
    const { group, version } = parseApiVersion(apiVersion);
    if (group !== info.group || !info.versions.includes(version)) {
      const why = group !== info.group ? `${info.kind} belongs to ${info.group === '' ? 'the core group' : `group ${info.group}`}` : `version ${version} is not served for ${info.kind}`;
      out.push({
        severity: 'error',
        code: DiagnosticCodes.apiVersion,
        path: 'apiVersion',
        message: `apiVersion "${apiVersion}" is not accepted: ${why} (accepted: ${acceptedApiVersions(info).join(', ')})`,
      });
      return { info };
    }
    return { info, version };
  }

  #compile(info: KindInfo, version: string | undefined): Compiled | Error {
    const file = schemaFileFor(info.kind, version);
    if (!file) return new Error(`no schema file for ${info.kind}`);
    const cached = this.#compiled.get(file);
    if (cached) return cached;
    let result: Compiled | Error;
    try {
      const schema = toAjvSchema(this.#readSchema(file), {
        warnUnknownFields: this.#unknownFields === 'warn' && info.source !== 'core',
        validateStatus: this.#validateStatus,
      });
      this.#ajv ??= createAjv();
      result = { schema, validate: this.#ajv.compile(schema) };
    } catch (err) {
      result = err instanceof Error ? err : new Error(String(err));
    }
    this.#compiled.set(file, result);
    return result;
  }

  /** The API server ignores metadata.namespace on cluster-scoped kinds; so do we, with a warning. */
  #dropClusterNamespace(info: KindInfo, value: unknown, out: Diagnostic[]): void {
    if (info.namespaced || !isPlainObject(value) || !isPlainObject(value.metadata) || value.metadata.namespace === undefined) return;
    delete value.metadata.namespace;
    out.push({
      severity: 'warning',
      code: DiagnosticCodes.clusterScoped,
      path: 'metadata.namespace',
      message: `ignored: ${info.kind} is cluster-scoped`,
    });
  }
}

/** One diagnostic per (path, message), with the resource and location attached. */
function finish(diagnostics: Diagnostic[], ref: ResourceRef | undefined, location: SourceLocation | undefined): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    // "required field "apiVersion" is missing (HTTPRoute uses ...)" and ajv's plain version are one problem.
    const id = `${d.path ?? ''}\0${d.message.replace(/ \(got .*\)$/, '').replace(/ \(\w+ uses [^)]*\)$/, '')}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ ...d, ...(ref ? { resource: ref } : {}), ...(location ? { location } : {}) });
  }
  return out;
}
