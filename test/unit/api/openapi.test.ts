// The Kubernetes OpenAPI extensions, on a hand-made schema served through `readSchema`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchemaValidator } from '../../../src/api/index.js';
import type { SchemaNode } from '../../../src/api/openapi.js';

const SCHEMA: SchemaNode = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
    spec: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maybe: { type: 'string', nullable: true },
        level: { type: 'string', enum: ['low', 'high'], nullable: true },
        count: { type: 'integer', default: 3 },
        name: { type: 'string' },
        port: { 'x-kubernetes-int-or-string': true },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
        ports: {
          type: 'array',
          items: { type: 'object', properties: { port: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' } } },
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['port', 'protocol'],
        },
        address: {
          type: 'object',
          oneOf: [{ properties: { type: { enum: ['IP'] }, value: { anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] } } }, { properties: { type: { not: { enum: ['IP'] } } } }],
          properties: { type: { type: 'string', default: 'IP' }, value: { type: 'string' } },
        },
        nested: { type: 'object', default: {}, properties: { inner: { type: 'string', default: 'x' } } },
      },
    },
  },
};

const validator = new SchemaValidator({ readSchema: () => structuredClone(SCHEMA) });
const check = (spec: unknown) => validator.validateSchema({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec });
const messages = (spec: unknown) => check(spec).diagnostics.map((d) => `${d.severity} ${d.path}: ${d.message}`);

describe('OpenAPI extensions', () => {
  it('nullable fields keep null; other nulls are pruned, then defaulted', () => {
    const r = check({ maybe: null, level: null, name: null, count: null });
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.value, { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { maybe: null, level: null, count: 3, nested: { inner: 'x' } } });
  });

  it('a defaulted object gets its own defaults', () => {
    assert.deepEqual((check({}).value as { spec: unknown }).spec, { count: 3, nested: { inner: 'x' } });
  });

  it('x-kubernetes-int-or-string accepts an integer or a string only', () => {
    assert.deepEqual(messages({ port: 8080 }), []);
    assert.deepEqual(messages({ port: 'http' }), []);
    assert.deepEqual(messages({ port: 1.5 }), ['error spec.port: must be an integer or a string (got 1.5)']);
    assert.deepEqual(messages({ port: [] }), ['error spec.port: must be an integer or a string (got an empty list)']);
  });

  it('x-kubernetes-preserve-unknown-fields takes anything', () => {
    assert.deepEqual(messages({ free: { a: { b: [1, { c: null }] } } }), []);
  });

  it('additionalProperties: false reports unknown fields as errors', () => {
    const r = check({ nmae: 'x' });
    assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.code, d.path, d.message]), [['error', 'EDG_SCHEMA', 'spec.nmae', 'unknown field "nmae"']]);
  });

  it('x-kubernetes-list-type set and map reject duplicates, counting defaulted keys', () => {
    assert.deepEqual(messages({ tags: ['a', 'b', 'a'] }), ['error spec.tags[2]: duplicate entry: the value "a" is already at index 0']);
    assert.deepEqual(messages({ ports: [{ port: 80 }, { port: 80, protocol: 'UDP' }, { port: 80, protocol: 'TCP' }] }), [
      'error spec.ports[2]: duplicate entry: an entry with port 80 and protocol "TCP" is already at index 0',
    ]);
  });

  it('oneOf: the branch that matches the discriminator explains the failure', () => {
    assert.deepEqual(messages({ address: { value: '10.0.0.1' } }), []);
    assert.deepEqual(messages({ address: { type: 'Name', value: 'anything' } }), []);
    assert.deepEqual(messages({ address: { value: 'nope' } }), ['error spec.address.value: must be a valid IPv4 address or IPv6 address (got "nope")']);
  });

  it('a wrong type hides the other complaints about the same value', () => {
    assert.deepEqual(messages({ level: 5 }), ['error spec.level: must be a string or null (got 5)']);
  });
});
