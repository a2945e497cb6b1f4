// `edgion-ctl delete`: remove resources named on the command line or listed in files.

import type { ControllerApi } from './admin-client.js';
import { cliError } from './errors.js';
import { resolveKind } from './kinds.js';
import { describeRef, findResource, notFoundError, requireKind } from './lookup.js';
import { readManifests } from './manifests.js';
import type { Output } from './output.js';
import { formatDiagnostic } from '../shared/diagnostics.js';

export interface DeleteOptions {
  kind?: string;
  name?: string;
  namespace?: string;
  files?: readonly string[];
  recursive?: boolean;
  ignoreNotFound: boolean;
}

export interface ResourceRefResult {
  kind: string;
  namespace: string | null;
  name: string;
}

/** The `--json` result of `delete`. */
export interface DeleteResult {
  deleted: ResourceRefResult[];
  notFound: ResourceRefResult[];
  /** The controller's snapshot version after the last delete (null if nothing was deleted). */
  snapshotVersion: number | null;
}

export async function deleteResources(api: ControllerApi, options: DeleteOptions, out: Output): Promise<DeleteResult> {
  const targets = await resolveTargets(api, options, out);
  const result: DeleteResult = { deleted: [], notFound: [], snapshotVersion: null };
  for (const target of targets) {
    const answer = target.known === false ? undefined : await api.delete(target.kind, target.namespace ?? undefined, target.name);
    if (answer) {
      result.deleted.push(target.ref);
      if (typeof answer.snapshotVersion === 'number') result.snapshotVersion = answer.snapshotVersion;
      out.line(`${describeRef(target.kind, target.namespace, target.name)} deleted`);
    } else {
      result.notFound.push(target.ref);
    }
  }
  if (result.notFound.length > 0 && !options.ignoreNotFound) {
    const names = result.notFound.map((r) => describeRef(r.kind, r.namespace, r.name));
    const message = names.length === 1 ? `${names[0]} not found` : `${names.length} resources not found: ${names.join(', ')}`;
    throw cliError('notFound', message, { details: result.notFound, partialResult: { ...result } });
  }
  return result;
}

interface Target {
  kind: string;
  namespace: string | null;
  name: string;
  ref: ResourceRefResult;
  /** false when the lookup already showed the resource does not exist. */
  known?: boolean;
}

async function resolveTargets(api: ControllerApi, options: DeleteOptions, out: Output): Promise<Target[]> {
  const hasFiles = (options.files?.length ?? 0) > 0;
  if (hasFiles && (options.kind || options.name)) {
    throw cliError('usage', 'give either KIND NAME or -f FILE, not both');
  }
  if (hasFiles) return targetsFromFiles(options, out);
  if (!options.kind || !options.name) {
    throw cliError('usage', 'delete needs KIND and NAME, or -f FILE', { hint: 'Example: edgion-ctl delete httproute demo -n default' });
  }
  const info = requireKind(options.kind);
  const found = await findResource(api, info, options.name, options.namespace);
  const namespace = info.scope === 'Cluster' ? null : (found?.namespace ?? options.namespace ?? null);
  if (!found && !options.ignoreNotFound) throw notFoundError(info, options.name, options.namespace);
  const ref = { kind: info.kind, namespace, name: options.name };
  return [{ ...ref, ref, known: found !== undefined }];
}

async function targetsFromFiles(options: DeleteOptions, out: Output): Promise<Target[]> {
  const manifests = await readManifests(options.files ?? [], options.recursive ?? false);
  if (manifests.diagnostics.length > 0) {
    for (const d of manifests.diagnostics) out.line(formatDiagnostic(d));
    throw cliError('invalidManifest', `${manifests.diagnostics.length} problem(s) in the files; nothing was deleted`, {
      details: manifests.diagnostics,
    });
  }
  return manifests.docs.map((doc) => {
    // A kind edgion-ctl does not know is sent as written; the controller decides.
    const info = resolveKind(doc.kind);
    const kind = info?.kind ?? doc.kind;
    const namespace = info?.scope === 'Cluster' ? null : (doc.namespace ?? options.namespace ?? 'default');
    const ref = { kind, namespace, name: doc.name };
    return { ...ref, ref };
  });
}
