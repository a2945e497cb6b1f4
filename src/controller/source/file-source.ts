// Standalone mode's source of resources: every *.yaml / *.yml file under a folder (recursively;
// hidden files and folders skipped), each holding any number of documents. Changes are noticed
// through fs.watch (fast) and a periodic scan (the safety net for editors, network mounts and
// rename-based atomic writes). A file that stops parsing keeps its last good documents.

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../shared/logger.js';
import type { Diagnostic } from '../../shared/diagnostics.js';
import { parseYamlFile, type ParsedDocument, type ParsedFile } from './yaml-documents.js';

interface FileEntry {
  mtimeMs: number;
  size: number;
  ino: number;
  /** Documents of the last version that parsed. */
  documents: ParsedDocument[];
  /** Problems of the current version (YAML syntax errors keep the last good documents). */
  errors: Diagnostic[];
}

export interface FileSourceOptions {
  dir: string;
  logger: Logger;
  /** Called (debounced) after a change was picked up. */
  onChange(): void;
  pollMs?: number;
  debounceMs?: number;
}

export class FileSource {
  private readonly entries = new Map<string, FileEntry>();
  private watcher: fs.FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private scanErrors: Diagnostic[] = [];

  constructor(private readonly opts: FileSourceOptions) {}

  get dir(): string {
    return this.opts.dir;
  }

  /** Initial scan; then watch. */
  start(): void {
    fs.mkdirSync(this.opts.dir, { recursive: true });
    this.rescan();
    try {
      this.watcher = fs.watch(this.opts.dir, { recursive: true, persistent: false }, () => this.trigger());
      this.watcher.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'file watcher failed; relying on periodic scans'));
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'fs.watch is not available here; relying on periodic scans');
    }
    this.poll = setInterval(() => {
      if (this.rescan()) this.opts.onChange();
    }, this.opts.pollMs ?? 1000);
    this.poll.unref();
  }

  /** Debounced rescan, so an editor's burst of writes becomes one reload. */
  trigger(): void {
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      if (this.rescan()) this.opts.onChange();
    }, this.opts.debounceMs ?? 100);
    this.debounce.unref();
  }

  /** Re-reads what changed on disk. Returns true when anything did. */
  rescan(): boolean {
    const seen = new Set<string>();
    const scanErrors: Diagnostic[] = [];
    let changed = false;
    const walk = (abs: string, rel: string) => {
      let dirents: fs.Dirent[];
      try {
        dirents = fs.readdirSync(abs, { withFileTypes: true });
      } catch (err) {
        scanErrors.push({ severity: 'error', code: 'EDG_IO', message: `cannot read folder: ${(err as Error).message}`, location: { file: rel || '.' } });
        return;
      }
      for (const d of dirents) {
        if (d.name.startsWith('.')) continue;
        const childAbs = path.join(abs, d.name);
        const childRel = rel ? `${rel}/${d.name}` : d.name;
        if (d.isDirectory()) {
          walk(childAbs, childRel);
          continue;
        }
        if (!/\.ya?ml$/i.test(d.name)) continue;
        let st: fs.Stats;
        try {
          st = fs.statSync(childAbs);
        } catch {
          continue; // vanished between readdir and stat
        }
        if (!st.isFile()) continue;
        seen.add(childRel);
        const prev = this.entries.get(childRel);
        if (prev && prev.mtimeMs === st.mtimeMs && prev.size === st.size && prev.ino === st.ino) continue;
        let text: string;
        try {
          text = fs.readFileSync(childAbs, 'utf8');
        } catch (err) {
          scanErrors.push({ severity: 'error', code: 'EDG_IO', message: `cannot read file: ${(err as Error).message}`, location: { file: childRel } });
          continue;
        }
        const parsed = parseYamlFile(childRel, text);
        const hasSyntaxError = parsed.errors.some((e) => e.severity === 'error');
        const documents = hasSyntaxError && prev ? prev.documents : parsed.documents;
        if (hasSyntaxError) {
          this.opts.logger.error(
            { file: childRel, line: parsed.errors[0]?.location?.line, reason: parsed.errors[0]?.message },
            `${childRel}:${parsed.errors[0]?.location?.line ?? 1}: ${parsed.errors[0]?.message}${prev ? ' (keeping the last good version of this file)' : ''}`,
          );
        }
        this.entries.set(childRel, { mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, documents, errors: parsed.errors });
        changed = true;
      }
    };
    walk(this.opts.dir, '');
    for (const key of this.entries.keys()) {
      if (!seen.has(key)) {
        this.entries.delete(key);
        changed = true;
      }
    }
    if (JSON.stringify(scanErrors) !== JSON.stringify(this.scanErrors)) changed = true;
    this.scanErrors = scanErrors;
    return changed;
  }

  /** Every file's current view, sorted by path (the order used for "oldest first"). */
  files(): ParsedFile[] {
    return [...this.entries.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([file, e]) => ({ file, documents: e.documents, errors: e.errors }));
  }

  diagnostics(): Diagnostic[] {
    return [...this.scanErrors, ...[...this.entries.values()].flatMap((e) => e.errors)];
  }

  close(): void {
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
  }
}
