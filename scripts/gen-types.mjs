#!/usr/bin/env node
// Generates, from the CRDs in reference/crds and the hand-made core schemas:
//   src/api/schemas/<Kind>.json          validation schemas (descriptions stripped), one per kind,
//                                         plus <Kind>.<version>.json where a served version differs
//   src/api/generated/<kind-file>.ts     TypeScript types, one interface per kind named like the kind
//   src/api/generated/index.ts           re-exports + ResourceByKind
//   src/api/generated/schema-files.ts    which schema file serves which kind/version
// The output is committed, so building the project never needs ../shared.
//
// Usage: node scripts/gen-types.mjs [--crds DIR] [--out DIR]
//   --crds  CRD folder (default $EDGION_CRDS_DIR, else ../shared/reference/crds next to the repo)
//   --out   root to write src/api/... under (default: the repo; tests pass a temp dir)

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { compile } from 'json-schema-to-typescript';
import { CORE_SCHEMAS, objectMetaSchema, looseStatusSchema } from './core-schemas.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_CRD_DIR = path.resolve(REPO, '../shared/reference/crds');
const GATEWAY_API_BUNDLE = 'gateway-api/gateway-api-experimental-v1.4.0.yaml';
const EDGION_DIR = 'edgion-crd';

const GATEWAY_API_KINDS = ['GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'TCPRoute', 'UDPRoute', 'TLSRoute', 'ReferenceGrant', 'BackendTLSPolicy'];
const EDGION_KINDS = ['EdgionPlugins', 'EdgionStreamPlugins', 'EdgionTls', 'EdgionGatewayConfig', 'EdgionAcme', 'PluginMetaData', 'LinkSys'];
// Edgion configs in the wild mix both versions whatever the CRD says (kinds.ts does the same).
const EDGION_VERSIONS = ['v1', 'v1alpha1'];

// Names for nested types worth importing on their own. Paths: `.field`, `[]` = array items.
// Identical schemas under one name (HTTPRoute filters at rule and backendRef level) share the type.
const TITLES = {
  GatewayClass: {},
  Gateway: {
    'spec.listeners[]': 'GatewayListener',
    'spec.listeners[].tls': 'GatewayListenerTLS',
    'spec.listeners[].allowedRoutes': 'GatewayAllowedRoutes',
    'spec.addresses[]': 'GatewaySpecAddress',
  },
  HTTPRoute: {
    'spec.parentRefs[]': 'HTTPRouteParentRef',
    'spec.rules[]': 'HTTPRouteRule',
    'spec.rules[].matches[]': 'HTTPRouteMatch',
    'spec.rules[].filters[]': 'HTTPRouteFilter',
    'spec.rules[].backendRefs[]': 'HTTPRouteBackendRef',
    'spec.rules[].backendRefs[].filters[]': 'HTTPRouteFilter',
    'spec.rules[].timeouts': 'HTTPRouteTimeouts',
    'spec.rules[].retry': 'HTTPRouteRetry',
    'spec.rules[].sessionPersistence': 'HTTPRouteSessionPersistence',
  },
  GRPCRoute: {
    'spec.parentRefs[]': 'GRPCRouteParentRef',
    'spec.rules[]': 'GRPCRouteRule',
    'spec.rules[].matches[]': 'GRPCRouteMatch',
    'spec.rules[].filters[]': 'GRPCRouteFilter',
    'spec.rules[].backendRefs[]': 'GRPCRouteBackendRef',
    'spec.rules[].backendRefs[].filters[]': 'GRPCRouteFilter',
  },
  TCPRoute: { 'spec.parentRefs[]': 'TCPRouteParentRef', 'spec.rules[]': 'TCPRouteRule', 'spec.rules[].backendRefs[]': 'TCPRouteBackendRef' },
  UDPRoute: { 'spec.parentRefs[]': 'UDPRouteParentRef', 'spec.rules[]': 'UDPRouteRule', 'spec.rules[].backendRefs[]': 'UDPRouteBackendRef' },
  TLSRoute: { 'spec.parentRefs[]': 'TLSRouteParentRef', 'spec.rules[]': 'TLSRouteRule', 'spec.rules[].backendRefs[]': 'TLSRouteBackendRef' },
  ReferenceGrant: {},
  BackendTLSPolicy: {},
  EdgionPlugins: Object.fromEntries(
    [
      ['requestPlugins', 'EdgionRequestPluginEntry'],
      ['upstreamResponseFilterPlugins', 'EdgionUpstreamResponseFilterPluginEntry'],
      ['upstreamResponsePlugins', 'EdgionUpstreamResponsePluginEntry'],
      ['upstreamResponseBodyFilterPlugins', 'EdgionUpstreamResponseBodyFilterPluginEntry'],
    ].flatMap(([stage, entry]) => [
      [`spec.${stage}[]`, entry],
      [`spec.${stage}[].conditionEnable`, 'EdgionPluginConditionEnable'],
      [`spec.${stage}[].conditions`, 'EdgionPluginConditions'],
      [`spec.${stage}[].conditions.skip[]`, 'EdgionPluginCondition'],
      [`spec.${stage}[].conditions.run[]`, 'EdgionPluginCondition'],
    ]),
  ),
  EdgionStreamPlugins: { 'spec.plugins[]': 'EdgionStreamPluginEntry' },
  Service: { 'spec.ports[]': 'ServicePort' },
  EndpointSlice: { 'ports[]': 'EndpointSlicePort', 'endpoints[]': 'EndpointSliceEndpoint' },
};

// Documented corrections to the reference CRDs, applied before anything is generated. Each one says
// why; test/unit/api/crd-corrections.test.ts checks the generated schemas carry them.
//   path: property names from the version's openAPIV3Schema down to a node; `[]` = array items.
const CRD_CORRECTIONS = [
  {
    kind: 'EdgionPlugins',
    path: ['spec', 'requestPlugins', '[]', 'type'],
    addEnum: ['UrlRewrite'],
    why: 'plugins.md §6 lists UrlRewrite as a plugin type and DECISIONS.md §41 runs it (the Gateway API URLRewrite filter), but the CRD enum lacks it',
  },
  {
    kind: 'EdgionPlugins',
    path: ['spec', 'upstreamResponseBodyFilterPlugins', '[]', 'type'],
    addEnum: ['ExtensionRef'],
    why: 'plugins.md §1.1 and §1.5 run ExtensionRef in every stage list, but the CRD enum of the body filter stage lacks it',
  },
];

function applyCorrections(kind, schema) {
  for (const c of CRD_CORRECTIONS.filter((x) => x.kind === kind)) {
    let node = schema;
    for (const step of c.path) {
      node = step === '[]' ? node?.items : node?.properties?.[step];
      if (!node) throw new Error(`CRD correction for ${kind} (${c.why}): path ${c.path.join('.')} not found`);
    }
    if (c.addEnum) {
      if (!Array.isArray(node.enum)) throw new Error(`CRD correction for ${kind}: ${c.path.join('.')} has no enum`);
      for (const v of c.addEnum) if (!node.enum.includes(v)) node.enum.push(v);
    }
  }
  return schema;
}

const TS_STYLE = { singleQuote: true, printWidth: 120, trailingComma: 'all' };

// ---------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const out = { crds: process.env.EDGION_CRDS_DIR || DEFAULT_CRD_DIR, out: REPO };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--crds') out.crds = path.resolve(argv[++i]);
    else if (a === '--out') out.out = path.resolve(argv[++i]);
    else throw new Error(`unknown argument ${a} (usage: gen-types.mjs [--crds DIR] [--out DIR])`);
  }
  return out;
}

const clone = (v) => JSON.parse(JSON.stringify(v)); // also unshares YAML anchors/aliases

function readCrds(file) {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'));
  const out = [];
  for (const d of docs) {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    const js = d.toJS({ maxAliasCount: -1 });
    if (js && js.kind === 'CustomResourceDefinition') out.push(js);
  }
  return out;
}

/** kind -> { source, group, storage: version, versions: {name: schema} } from every CRD file. */
function loadCrdSchemas(crdDir) {
  const found = new Map();
  const add = (crd, source) => {
    const versions = {};
    let storage;
    for (const v of crd.spec.versions) {
      if (!v.served) continue;
      versions[v.name] = clone(v.schema.openAPIV3Schema);
      if (v.storage) storage = v.name;
    }
    found.set(crd.spec.names.kind, { source, group: crd.spec.group, storage, versions });
  };
  for (const crd of readCrds(path.join(crdDir, GATEWAY_API_BUNDLE))) add(crd, GATEWAY_API_BUNDLE);
  const edgionDir = path.join(crdDir, EDGION_DIR);
  for (const f of fs.readdirSync(edgionDir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    for (const crd of readCrds(path.join(edgionDir, f))) add(crd, `${EDGION_DIR}/${f}`);
  }
  for (const k of [...GATEWAY_API_KINDS, ...EDGION_KINDS]) {
    if (!found.has(k)) throw new Error(`no CRD for kind ${k} under ${crdDir}`);
  }
  return found;
}

/** Deep copy of a schema without the given keywords. */
function stripKeywords(node, keywords) {
  if (Array.isArray(node)) return node.map((n) => stripKeywords(n, keywords));
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    // `properties` maps field names to schemas: a field may itself be called "description".
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, stripKeywords(s, keywords)]));
    else if (k === 'default' || k === 'enum' || k === 'example') out[k] = v; // values, not schemas
    else if (!keywords.includes(k)) out[k] = stripKeywords(v, keywords);
  }
  return out;
}

/** Validation never needs descriptions; dropping them keeps the schemas small. */
const stripDescriptions = (node) => stripKeywords(node, ['description']);

/** The shape of a schema, for telling whether two nodes may share one named type. */
const shapeOf = (node) => JSON.stringify(stripKeywords(node, ['description', 'default', 'x-kubernetes-validations']));

/** Adds apiVersion, kind, metadata and status to a kind's schema, in that order. */
function wrapResource(kind, schema) {
  const { apiVersion: _a, kind: _k, metadata: _m, status, ...rest } = schema.properties ?? {};
  return {
    ...schema,
    type: 'object',
    required: [...new Set(['apiVersion', 'kind', 'metadata', ...(schema.required ?? [])])],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: objectMetaSchema(kind),
      ...rest,
      status: status ?? clone(looseStatusSchema),
    },
  };
}

function json(v) {
  return JSON.stringify(v, null, 2) + '\n';
}

// ---------------------------------------------------------------------------------------------
// Types

function firstParagraph(text) {
  if (typeof text !== 'string') return undefined;
  const p = text.trim().split(/\n\s*\n/)[0].replace(/\s*\n\s*/g, ' ').trim();
  return p.replaceAll('*/', '*\\/');
}

/** Turns a Kubernetes structural schema into what json-schema-to-typescript renders well. */
function prepareForTypes(kind, schema) {
  const titles = TITLES[kind] ?? {};
  const named = new Map(); // title -> canonical JSON of the first schema given that name
  const walk = (node, p) => {
    if (!node || typeof node !== 'object') return node;
    const title = titles[p];
    const shape = title ? shapeOf(node) : undefined;
    if (title && named.has(title)) {
      if (named.get(title) !== shape) throw new Error(`${kind}: ${p} is named ${title} but differs from the first schema with that name`);
      const description = firstParagraph(node.description);
      return { tsType: title, ...(description ? { description } : {}) };
    }
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'x-kubernetes-validations' || k === 'default') continue;
      out[k] = v;
    }
    if (out.description !== undefined) out.description = firstParagraph(out.description);
    // The structural part (type/properties) carries the shape; oneOf/anyOf/not only refine values.
    if (out.type || out.properties) for (const k of ['oneOf', 'anyOf', 'allOf', 'not']) delete out[k];
    if (out['x-kubernetes-int-or-string']) {
      delete out.anyOf;
      out.tsType = 'number | string';
    }
    if (out['x-kubernetes-preserve-unknown-fields'] && out.additionalProperties === undefined) out.additionalProperties = true;
    if (out.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
    if (out.properties) {
      out.properties = Object.fromEntries(Object.entries(out.properties).map(([name, s]) => [name, walk(s, p ? `${p}.${name}` : name)]));
    }
    if (out.items && !Array.isArray(out.items)) out.items = walk(out.items, `${p}[]`);
    if (out.additionalProperties && typeof out.additionalProperties === 'object') out.additionalProperties = walk(out.additionalProperties, `${p}{}`);
    if (title) {
      named.set(title, shape);
      out.title = title;
    }
    return out;
  };
  const usedTitles = () => new Set(Object.values(titles));
  const result = walk(schema, '');
  for (const t of usedTitles()) if (!named.has(t)) throw new Error(`${kind}: title ${t} matched no schema path`);
  return result;
}

function typeSchemaFor(kind, schema, apiVersions) {
  const s = prepareForTypes(kind, schema);
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = s.properties ?? {};
  if (rest.spec && !rest.spec.title && !rest.spec.tsType) rest.spec.title = `${kind}Spec`;
  if (rest.status && !rest.status.title && !rest.status.tsType) rest.status.title = `${kind}Status`;
  return {
    ...s,
    title: kind,
    description: s.description,
    required: [...new Set(['apiVersion', 'kind', 'metadata', ...(s.required ?? [])])],
    properties: {
      apiVersion: { tsType: apiVersions.map((v) => `'${v}'`).join(' | ') },
      kind: { tsType: `'${kind}'` },
      metadata: { tsType: 'ObjectMeta' },
      ...rest,
    },
  };
}

const OBJECT_META_DOCS = {
  name: 'Name, unique within the namespace (or the cluster for cluster-scoped kinds).',
  namespace: 'Namespace of a namespaced resource ("default" when omitted).',
  labels: 'Labels, used by selectors (allowedRoutes namespace selectors match Namespace labels).',
  annotations: 'Annotations; several edgion.io/* annotations change behaviour (see reference/resources.md §17).',
  generation: 'Starts at 1 and grows by one on every change of spec (set by the controller in standalone mode).',
  creationTimestamp: 'RFC 3339 time the resource was first seen; orders routes of equal precedence.',
  resourceVersion: 'Opaque version string of the stored object.',
  uid: 'Unique id of the stored object.',
};

function objectMetaTypeSchema() {
  const s = stripDescriptions(objectMetaSchema('default'));
  for (const [k, d] of Object.entries(OBJECT_META_DOCS)) s.properties[k].description = d;
  for (const k of ['labels', 'annotations']) s.properties[k] = { ...s.properties[k], additionalProperties: { type: 'string' } };
  delete s.properties.labels.propertyNames;
  delete s.properties.annotations.propertyNames;
  return { ...s, title: 'ObjectMeta', description: 'Kubernetes object metadata: the fields the project reads or keeps.' };
}

/**
 * The storage schema with `required` lists narrowed to what every served version requires, so
 * a type holds for any accepted version (TLSRoute v1alpha2 has no required hostnames).
 */
function requiredByAllVersions(storage, others) {
  const walk = (node, peers) => {
    if (!node || typeof node !== 'object') return node;
    const out = { ...node };
    if (Array.isArray(out.required)) out.required = out.required.filter((r) => peers.every((p) => p?.required?.includes(r)));
    if (out.properties) {
      out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, walk(v, peers.map((p) => p?.properties?.[k]))]));
    }
    if (out.items && !Array.isArray(out.items)) out.items = walk(out.items, peers.map((p) => p?.items));
    return out;
  };
  return walk(storage, others);
}

const kebab = (name) =>
  name
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();

const TYPE_OPTIONS = {
  bannerComment: '',
  additionalProperties: false, // Kubernetes schemas rarely say it; unknown fields are ignored, not typed
  ignoreMinAndMaxItems: true, // maxItems: 16 would otherwise become a union of 16 tuple types
  unknownAny: true,
  strictIndexSignatures: false,
  declareExternallyReferenced: true,
  enableConstEnums: false,
  format: true,
  style: TS_STYLE,
};

function banner(source) {
  return `// Generated by scripts/gen-types.mjs from ${source}. Do not edit: run \`npm run gen:types\`.\n`;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(args.crds)) {
    console.error(`gen-types: CRD folder not found: ${args.crds} (set EDGION_CRDS_DIR or pass --crds)`);
    process.exit(2);
  }
  const crds = loadCrdSchemas(args.crds);
  const schemaDir = path.join(args.out, 'src/api/schemas');
  const typeDir = path.join(args.out, 'src/api/generated');
  const files = new Map(); // absolute path -> content
  const schemaFiles = {}; // kind -> { file, versions }
  const kinds = []; // { kind, file }

  const emitKind = async (kind, schemas, storage, apiVersions, source) => {
    const perVersion = {};
    const mainSchema = stripDescriptions(wrapResource(kind, schemas[storage]));
    const mainJson = json(mainSchema);
    files.set(path.join(schemaDir, `${kind}.json`), mainJson);
    for (const [version, schema] of Object.entries(schemas)) {
      if (version === storage) continue;
      const text = json(stripDescriptions(wrapResource(kind, schema)));
      if (text === mainJson) continue;
      // A served version whose schema differs (TLSRoute v1alpha2 has no required hostnames).
      files.set(path.join(schemaDir, `${kind}.${version}.json`), text);
      perVersion[version] = `${kind}.${version}.json`;
    }
    schemaFiles[kind] = { file: `${kind}.json`, versions: perVersion };

    const others = Object.entries(schemas).filter(([v]) => v !== storage).map(([, sch]) => sch);
    const typeSchema = typeSchemaFor(kind, wrapResource(kind, requiredByAllVersions(schemas[storage], others)), apiVersions);
    const ts = await compile(typeSchema, kind, TYPE_OPTIONS);
    const file = kebab(kind);
    files.set(path.join(typeDir, `${file}.ts`), `${banner(source)}\nimport type { ObjectMeta } from './object-meta.js';\n\n${ts}`);
    kinds.push({ kind, file });
  };

  for (const kind of GATEWAY_API_KINDS) {
    const c = crds.get(kind);
    const versions = [c.storage, ...Object.keys(c.versions).filter((v) => v !== c.storage)];
    await emitKind(kind, c.versions, c.storage, versions.map((v) => `${c.group}/${v}`), GATEWAY_API_BUNDLE);
  }
  for (const [kind, { apiVersion, schema }] of Object.entries(CORE_SCHEMAS)) {
    await emitKind(kind, { core: clone(schema) }, 'core', [apiVersion], 'scripts/core-schemas.mjs');
  }
  for (const kind of EDGION_KINDS) {
    const c = crds.get(kind);
    const versions = [c.storage, ...EDGION_VERSIONS.filter((v) => v !== c.storage)];
    // One schema serves every accepted version (the CRD itself defines only one).
    await emitKind(kind, { [c.storage]: applyCorrections(kind, c.versions[c.storage]) }, c.storage, versions.map((v) => `${c.group}/${v}`), c.source);
  }

  const meta = await compile(objectMetaTypeSchema(), 'ObjectMeta', TYPE_OPTIONS);
  files.set(path.join(typeDir, 'object-meta.ts'), `${banner('scripts/core-schemas.mjs')}\n${meta}`);

  const index = [
    banner('the kind list in scripts/gen-types.mjs').trimEnd(),
    '',
    "export type { ObjectMeta } from './object-meta.js';",
    ...kinds.map(({ file }) => `export type * from './${file}.js';`),
    '',
    ...kinds.map(({ kind, file }) => `import type { ${kind} } from './${file}.js';`),
    '',
    '/** The TypeScript type of each kind, by kind name. */',
    'export interface ResourceByKind {',
    ...kinds.map(({ kind }) => `  ${kind}: ${kind};`),
    '}',
    '',
    '/** Any resource the project loads, discriminated by `kind`. */',
    'export type AnyResource = ResourceByKind[keyof ResourceByKind];',
    '',
  ].join('\n');
  files.set(path.join(typeDir, 'index.ts'), index);

  const sf = [
    banner('the CRDs').trimEnd(),
    '',
    '/** Schema file (in src/api/schemas) of each kind; `versions` lists served versions whose schema differs. */',
    'export const SCHEMA_FILES: Readonly<Record<string, { readonly file: string; readonly versions: Readonly<Record<string, string>> }>> = {',
    ...Object.entries(schemaFiles).map(([k, v]) => `  ${k}: { file: '${v.file}', versions: { ${Object.entries(v.versions).map(([ver, f]) => `${ver}: '${f}'`).join(', ')} } },`),
    '};',
    '',
  ].join('\n').replaceAll('versions: {  }', 'versions: {}');
  files.set(path.join(typeDir, 'schema-files.ts'), sf);

  // Replace the generated folders wholesale so a removed kind leaves no stale file behind.
  for (const dir of [schemaDir, typeDir]) {
    fs.mkdirSync(dir, { recursive: true });
    for (const f of fs.readdirSync(dir)) if (/\.(json|ts)$/.test(f)) fs.rmSync(path.join(dir, f));
  }
  for (const [file, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) fs.writeFileSync(file, content);
  console.log(`gen-types: wrote ${files.size} files under ${path.relative(process.cwd(), args.out) || '.'} from ${args.crds}`);
}

main().catch((err) => {
  console.error(`gen-types: ${err.stack ?? err}`);
  process.exit(1);
});
