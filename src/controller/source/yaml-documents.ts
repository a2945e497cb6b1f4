// Parses one YAML file into documents that remember where they came from, so every later error can
// name file and line, down to the line of the offending field.

import { LineCounter, parseAllDocuments, isMap, isSeq, isScalar, type Document, type Node } from 'yaml';
import type { Diagnostic } from '../../shared/diagnostics.js';

export interface ParsedDocument {
  /** Path relative to the configuration folder, with `/` separators. */
  file: string;
  /** 0-based index among the file's documents. */
  index: number;
  /** 1-based line where the document starts. */
  line: number;
  /** Character range of the document in the file (for removing it again). */
  range: [number, number];
  value: unknown;
  /** 1-based line of a field (`spec.rules[0].matches`), or the document's line when unknown. */
  lineOf(path: (string | number)[]): number;
}

export interface ParsedFile {
  file: string;
  documents: ParsedDocument[];
  errors: Diagnostic[];
}

function lineLocator(doc: Document, lc: LineCounter, fallback: number): (path: (string | number)[]) => number {
  return (path) => {
    let node: unknown = doc.contents;
    let line = fallback;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
        if (!pair) break;
        const keyNode = pair.key as Node;
        if (keyNode.range) line = lc.linePos(keyNode.range[0]).line;
        node = pair.value;
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key];
        const n = node as Node | undefined;
        if (n?.range) line = lc.linePos(n.range[0]).line;
      } else {
        break;
      }
    }
    return line;
  };
}

export function parseYamlFile(file: string, text: string): ParsedFile {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, merge: true });
  const out: ParsedFile = { file, documents: [], errors: [] };
  const list = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs)) {
    // An EmptyStream: nothing but comments or whitespace.
    return out;
  }
  list.forEach((doc, index) => {
    const start = doc.range?.[0] ?? 0;
    const line = lc.linePos(doc.contents?.range?.[0] ?? start).line;
    if (doc.errors.length) {
      for (const e of doc.errors) {
        const at = e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line;
        out.errors.push({ severity: 'error', code: 'EDG_YAML', message: `YAML syntax error: ${e.message.split('\n')[0]}`, location: { file, line: at, doc: index } });
      }
      return;
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value === null || value === undefined) return; // empty document (e.g. a trailing ---)
    out.documents.push({ file, index, line, range: [start, doc.range?.[2] ?? text.length], value, lineOf: lineLocator(doc, lc, line) });
  });
  for (const w of list.flatMap((d) => d.warnings)) {
    out.errors.push({ severity: 'warning', code: 'EDG_YAML', message: w.message.split('\n')[0] ?? w.message, location: { file, line: lc.linePos(w.pos[0]).line } });
  }
  return out;
}
