// Reads the generated schema files (src/api/schemas/*.json, copied next to the compiled code by
// tsc) on demand, so a process only pays for the kinds it validates.

import { readFileSync } from 'node:fs';
import { SCHEMA_FILES } from './generated/schema-files.js';
import type { SchemaNode } from './openapi.js';

/** The schema file serving `kind` at `version` (a served version may have its own schema). */
export function schemaFileFor(kind: string, version: string | undefined): string | undefined {
  const entry = SCHEMA_FILES[kind];
  if (!entry) return undefined;
  return (version !== undefined ? entry.versions[version] : undefined) ?? entry.file;
}

/** Loads one schema file by name. Throws when missing: that is a packaging bug. */
export function readSchemaFile(file: string): SchemaNode {
  const url = new URL(`./schemas/${file}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as SchemaNode;
}
