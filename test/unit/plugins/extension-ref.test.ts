// ExtensionRef inside EdgionPlugins (plugins.md §1.5): the reference is validated; the engine runs it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { problems, validate } from './plugin-test-kit.js';

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
  [{ name: 'x', namespace: 'other' }, 'config.namespace: unknown field "namespace"'],
];
for (const [config, message] of BAD) test(`rejected: ${message}`, () => assert.deepEqual(problems('ExtensionRef', config), [message]));
