// ExtensionRef inside EdgionPlugins (plugins.md §1.5): runs another EdgionPlugins of the same
// namespace at this point, in this stage. The engine does the running (depth and cycle limits);
// this definition only validates the reference.
import { Type } from 'typebox';
import { definePlugin } from '../../runtime/define-plugin.js';

const Schema = Type.Object(
  {
    group: Type.Optional(Type.String()),
    kind: Type.Optional(Type.String({ default: 'EdgionPlugins' })),
    name: Type.String({ minLength: 1 }),
  },
  // Unknown fields are ignored, as the original's config parsing does.
);

export const ExtensionRefPlugin = definePlugin({
  type: 'ExtensionRef',
  stages: ['requestPlugins', 'upstreamResponseFilterPlugins', 'upstreamResponsePlugins', 'upstreamResponseBodyFilterPlugins'],
  schema: Schema,
  validate(c) {
    if (c.group !== undefined && c.group !== '' && c.group !== 'edgion.io') return [{ path: 'group', message: 'must be edgion.io (or empty)' }];
    return [];
  },
  create: () => ({}),
});
