// Reading resource files for `apply -f` and `delete -f`.
//
// Files are parsed here, before anything is sent, so a YAML mistake is reported with
// the user's own file name and line (the controller would only see one concatenated
// request body). Each document must be a mapping with `kind` and `metadata.name`.

import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Diagnostic } from '../shared/diagnostics.js';
import { cliError } from './errors.js';

export interface ManifestDoc {
  /** Path as the user sees it (relative to the current folder when inside it). */
  file: string;
  /** 0-based index of the document inside its file. */
  index: number;
  /** 1-based line where the document starts. */
  line: number;
  kind: string;
  namespace: string | undefined;
  name: string;
  /** The document's YAML text, comments kept. */
  text: string;
}

export interface ManifestSet {
  docs: ManifestDoc[];
  diagnostics: Diagnostic[];
}

const STDIN = '-';

/** Expands -f arguments to files: a folder gives its *.yaml / *.yml (recursively with -R). */
export async function collectFiles(inputs: readonly string[], recursive: boolean): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    if (input === STDIN) {
      files.push(STDIN);
      continue;
    }
    let info;
    try {
      info = await stat(input);
    } catch {
      throw cliError('pathNotFound', `the path "${input}" does not exist`, { details: { path: input } });
    }
    if (info.isDirectory()) files.push(...(await listYamlFiles(input, recursive)));
    else files.push(input);
  }
  return files;
}

async function listYamlFiles(dir: string, recursive: boolean): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (recursive) out.push(...(await listYamlFiles(full, recursive)));
    } else if (/\.ya?ml$/i.test(entry.name)) {
      out.push(full);
    }
  }
  return out;
}

export async function readManifests(
  inputs: readonly string[],
  recursive: boolean,
  readStdin: () => Promise<string> = readAllStdin,
): Promise<ManifestSet> {
  const files = await collectFiles(inputs, recursive);
  const { parseAllDocuments, LineCounter } = await import('yaml');
  const docs: ManifestDoc[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const shown = file === STDIN ? '<stdin>' : displayPath(file);
    const text = file === STDIN ? await readStdin() : await readFile(file, 'utf8');
    const lines = new LineCounter();
    const parsed = parseAllDocuments(text, { lineCounter: lines });
    // parseAllDocuments returns an EmptyStream (not an array) for an empty file.
    if (!Array.isArray(parsed)) continue;
    parsed.forEach((doc, index) => {
      // The first line of content (not the `---` marker or a leading comment).
      const line = lines.linePos(doc.contents?.range?.[0] ?? doc.range[0]).line;
      const at = (l: number) => ({ file: shown, line: l, doc: index });
      if (doc.errors.length > 0) {
        for (const e of doc.errors) {
          const message = e.message.split('\n')[0] ?? e.message;
          diagnostics.push({ severity: 'error', code: 'EDG_YAML_SYNTAX', message, location: at(e.linePos?.[0]?.line ?? line) });
        }
        return;
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) return; // an empty document between `---` lines
      const problem = checkShape(value);
      if (problem) {
        diagnostics.push({ severity: 'error', code: 'EDG_MANIFEST_SHAPE', message: problem, location: at(line) });
        return;
      }
      const obj = value as { kind: string; metadata: { name: string; namespace?: unknown } };
      docs.push({
        file: shown,
        index,
        line,
        kind: obj.kind,
        namespace: typeof obj.metadata.namespace === 'string' ? obj.metadata.namespace : undefined,
        name: obj.metadata.name,
        // Without its own `---` marker: toApplyBody() puts the separators back.
        text: doc.toString().replace(/^---[ \t]*\n/, ''),
      });
    });
  }
  return { docs, diagnostics };
}

function checkShape(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a resource must be a YAML mapping';
  const v = value as { kind?: unknown; metadata?: { name?: unknown } };
  if (typeof v.kind !== 'string' || v.kind === '') return 'missing "kind"';
  if (typeof v.metadata?.name !== 'string' || v.metadata.name === '') return 'missing "metadata.name"';
  return undefined;
}

/** The request body for POST /api/v1/apply: all documents as one multi-document YAML stream. */
export function toApplyBody(docs: readonly ManifestDoc[]): string {
  return docs.map((d) => (d.text.endsWith('\n') ? d.text : d.text + '\n')).join('---\n');
}

function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
