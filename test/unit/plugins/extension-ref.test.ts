// ExtensionRef inside EdgionPlugins (plugins.md §1.5): the reference is validated; the engine runs it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { problems, validate, warnings } from './plugin-test-kit.js';

test('a reference by name; kind defaults to EdgionPlugins; every stage accepts it', () => {
  assert.deepEqual(validate('ExtensionRef', { name: 'other' }).config, { kind: 'EdgionPlugins', name: 'other' });
  for (const stage of ['requestPlugins', 'upstreamResponseFilterPlugins', 'upstreamResponsePlugins', 'upstreamResponseBodyFilterPlugins'] as const) {
    assert.deepEqual(problems('ExtensionRef', { group: 'edgion.io', kind: 'EdgionPlugins', name: 'other' }, stage), [], stage);
  }
  assert.deepEqual(problems('ExtensionRef', { group: '', name: 'x' }), []);
});

const BAD: [config: unknown, message: string][] = [
  [{}, 'config: required field "name" is missing'],
  [{ name: '' }, 'config.name: must not be empty'],
  [{ name: 'x', group: 'example.com' }, 'config.group: must be edgion.io (or empty)'],
];
for (const [config, message] of BAD) test(`rejected: ${message}`, () => assert.deepEqual(problems('ExtensionRef', config), [message]));

test('an unknown field is accepted (the original ignores it) with a warning naming it', () => {
  assert.deepEqual(problems('ExtensionRef', { name: 'x', namespace: 'other' }), []);
  assert.deepEqual(warnings('ExtensionRef', { name: 'x', namespace: 'other' }), ['config.namespace: unknown field "namespace" is ignored']);
});
