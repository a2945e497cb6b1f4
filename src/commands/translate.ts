import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { translateFiles } from '../cli/validate.js';

export default class Translate extends BaseCommand<typeof Translate> {
  static override summary = 'Print the snapshot the controller would send to gateways for a folder or file.';

  static override examples = ['<%= config.bin %> translate conf/', '<%= config.bin %> translate conf/ -o json'];

  static override args = {
    path: Args.string({ description: 'Folder (read recursively) or file', required: true }),
  };

  static override flags = {
    output: Flags.option({ char: 'o', description: 'Output format', options: ['yaml', 'json'] as const, default: 'yaml' as const })(),
  };

  async run(): Promise<unknown> {
    return translateFiles(this.args.path, this.flags.output, this.out);
  }
}
