import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { deleteResources, type DeleteResult } from '../cli/delete.js';

export default class Delete extends BaseCommand<typeof Delete> {
  static override summary = 'Delete resources by kind and name, or those listed in files.';

  static override description = `Without -n, NAME is looked up in all namespaces (and refused if it exists in several).
Exits 1 when a resource does not exist, unless --ignore-not-found is given.`;

  static override examples = [
    '<%= config.bin %> delete httproute demo -n default',
    '<%= config.bin %> delete -f route.yaml',
    '<%= config.bin %> delete httproute old-route --ignore-not-found',
  ];

  static override args = {
    kind: Args.string({ description: 'Resource kind, e.g. HTTPRoute' }),
    name: Args.string({ description: 'Resource name' }),
  };

  static override flags = {
    namespace: Flags.string({ char: 'n', description: 'Namespace of NAME (and of documents in -f files that have none)' }),
    filename: Flags.string({ char: 'f', description: 'Delete the resources in this file or folder. Repeatable.', multiple: true, helpValue: 'FILE|DIR' }),
    recursive: Flags.boolean({ char: 'R', description: 'Read folders recursively' }),
    'ignore-not-found': Flags.boolean({ description: 'Exit 0 when a resource does not exist' }),
  };

  async run(): Promise<DeleteResult> {
    return deleteResources(
      await this.controllerApi(),
      {
        kind: this.args.kind,
        name: this.args.name,
        namespace: this.flags.namespace,
        files: this.flags.filename,
        recursive: this.flags.recursive,
        ignoreNotFound: this.flags['ignore-not-found'],
      },
      this.out,
    );
  }
}
