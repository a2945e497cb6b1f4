import { Flags } from '@oclif/core';
import { applyFiles, type ApplyResult } from '../cli/apply.js';
import { BaseCommand } from '../cli/base-command.js';

export default class Apply extends BaseCommand<typeof Apply> {
  static override summary = 'Create or update resources from YAML/JSON files (one request to the controller).';

  static override description = `Prints one line per resource ("HTTPRoute acc/foo created", "... updated", "... unchanged", "... rejected") and each diagnostic under it. Exits 1 if any resource is rejected (the others are still applied, as the controller decides).
In standalone mode the controller writes applied resources into <conf-dir>/applied/.
--wait polls the gateway until it runs the new configuration (config.version >= the controller's snapshot version).`;

  static override examples = [
    '<%= config.bin %> apply -f route.yaml',
    '<%= config.bin %> apply -f conf/ -R --wait',
    '<%= config.bin %> apply -f route.yaml --dry-run',
    'cat route.yaml | <%= config.bin %> apply -f -',
  ];

  static override flags = {
    filename: Flags.string({
      char: 'f',
      description: 'File or folder (*.yaml, *.yml) to apply; "-" reads stdin. Repeatable.',
      multiple: true,
      required: true,
      helpValue: 'FILE|DIR',
    }),
    recursive: Flags.boolean({ char: 'R', description: 'Read folders recursively' }),
    'dry-run': Flags.boolean({ description: 'Validate only; change nothing' }),
    wait: Flags.boolean({ description: 'Wait until the gateway runs the new configuration' }),
    timeout: Flags.integer({ description: 'Seconds to wait with --wait', default: 30, min: 1, helpValue: 'SECONDS' }),
  };

  async run(): Promise<ApplyResult> {
    return applyFiles(
      { controller: await this.controllerApi(), gateway: () => this.gatewayApi(), out: this.out },
      {
        files: this.flags.filename,
        recursive: this.flags.recursive,
        dryRun: this.flags['dry-run'],
        wait: this.flags.wait,
        timeoutSeconds: this.flags.timeout,
      },
    );
  }
}
